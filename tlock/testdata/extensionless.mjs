// Module resolution hook for timelockjs.mjs: the published
// @ideallabs/timelock.js 1.0.1 is an ES module whose relative imports omit
// the ".js" extension ("./timelock"), which Node's ESM resolver refuses.
// Retry such relative specifiers with ".js" appended.
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !relative || specifier.endsWith(".js")) {
      throw err;
    }
    return next(specifier + ".js", context);
  }
}
