// Independent-implementation check for package tlock: decrypts and encrypts
// with the npm package @ideallabs/timelock.js (a wasm build of the tle
// crate), driven by the Go test TestTimelockJS.
//
// Usage: node timelockjs.mjs <node_modules dir> < request.json > response.json
//
// request:  {"decrypt": [{"ciphertext": hex, "signature": hex}],
//            "encrypt": [{"round": n, "plaintext": hex, "esk": hex, "public_key": hex}]}
// response: {"decrypt": [{"plaintext": hex} | {"error": text}],
//            "encrypt": [{"ciphertext": hex} | {"error": text}]}
import { readFileSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
if (!modules) {
  console.error("usage: node timelockjs.mjs <node_modules dir>");
  process.exit(2);
}
// timelock.js's relative imports lack extensions; see extensionless.mjs.
register("./extensionless.mjs", import.meta.url);
const load = (p) => import(pathToFileURL(join(modules, p)).href);
const wrapperDir = join(modules, "@ideallabs", "timelock_wasm_wrapper");
const wrapper = await load("@ideallabs/timelock_wasm_wrapper/timelock_wasm_wrapper.js");
const tljs = await load("@ideallabs/timelock.js/dist/index.js");

// The wasm loader fetches its module by URL, which Node cannot do for files:
// hand it the bytes first; Timelock.build then finds it initialized.
await wrapper.default({
  module_or_path: readFileSync(join(wrapperDir, "timelock_wasm_wrapper_bg.wasm")),
});
const tl = await tljs.Timelock.build(tljs.SupportedCurve.BLS12_381);

const hex = (u8) => Buffer.from(u8).toString("hex");
const bytes = (h) => new Uint8Array(Buffer.from(h, "hex"));
const settle = (r, key) =>
  r instanceof Error ? { error: r.message || String(r) } : { [key]: hex(r) };

const request = JSON.parse(readFileSync(0, "utf8"));
const response = { decrypt: [], encrypt: [] };
for (const c of request.decrypt ?? []) {
  response.decrypt.push(settle(await tl.decrypt(bytes(c.ciphertext), c.signature), "plaintext"));
}
for (const c of request.encrypt ?? []) {
  const r = await tl.encrypt(bytes(c.plaintext), c.round, tljs.DrandIdentityBuilder, c.public_key, c.esk);
  response.encrypt.push(settle(r, "ciphertext"));
}
process.stdout.write(JSON.stringify(response));
