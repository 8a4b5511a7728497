// Jest runs test files as CommonJS in a VM, where a dynamic import() throws unless Node runs with
// --experimental-vm-modules. The OTLP exporter loads node:http and node:https that way
// (@opentelemetry/otlp-exporter-base); for those built-ins alone, a require() does the same.
/* eslint-disable no-undef */
module.exports = {
  /** @param {string} source */
  process(source) {
    return { code: source.replace(/\bimport\((['"])(https?)\1\)/g, 'Promise.resolve(require("$2"))') };
  },
};
