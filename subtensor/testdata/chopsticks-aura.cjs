// Starts the chopsticks command line with the Aura slot duration read from
// the runtime with unresolved host imports allowed, as chopsticks already
// allows them for building blocks (--allow-unresolved-imports). chopsticks
// 1.5.1 reads AuraApi_slot_duration with them disallowed; a runtime that
// imports host functions it lacks (the BLS12-381 ones of spec 293) then
// makes it fall back to 12 000 ms, and every block of a 1 000 ms runtime
// fails its slot check. Modules resolve through NODE_PATH (chopsticks'
// node_modules); the arguments are chopsticks' own.
'use strict'
const { runTask, getAuraSlotDuration } = require('@acala-network/chopsticks-core/wasm-executor/index')

const durations = new Map()
function slotDuration(wasm) {
  if (!durations.has(wasm)) {
    durations.set(wasm, runTask({
      wasm,
      calls: [['AuraApi_slot_duration', []]],
      mockSignatureHost: false,
      allowUnresolvedImports: true,
      runtimeLogLevel: 0,
    }).then((result) => {
      if ('Error' in result) throw new Error(result.Error)
      const bytes = Buffer.from(result.Call.result.slice(2), 'hex')
      return Number(bytes.readBigUInt64LE(0))
    }))
  }
  return durations.get(wasm)
}

// lodash's memoize consults memoized.cache on every call.
getAuraSlotDuration.cache = {
  has: () => true,
  get: slotDuration,
  set() { return this },
  delete: () => true,
  clear() {},
}

require('@acala-network/chopsticks/cli')
