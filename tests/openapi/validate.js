// validate.js — validates an OpenAPI document with @apidevtools/swagger-parser
// (installed into web/node_modules by scripts/npm-deps.sh): its JSON schema
// for the OpenAPI version, then its own checks (every $ref resolves, path
// parameters match the path templates, operationIds are unique, ...).
// Usage: node tests/openapi/validate.js FILE.json
// Prints "valid: N paths" and exits 0, or prints the errors and exits 1.
// A missing package exits 2 with the command that installs it.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const web = path.resolve(__dirname, "..", "..", "web");
let SwaggerParser;
try {
  SwaggerParser = createRequire(path.join(web, "package.json"))("@apidevtools/swagger-parser");
} catch (e) {
  console.error("validate.js: @apidevtools/swagger-parser is not installed in " + web +
                "/node_modules: run `bash scripts/npm-deps.sh` (" + e.message + ")");
  process.exit(2);
}

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.js FILE.json");
  process.exit(2);
}
const document = JSON.parse(fs.readFileSync(file, "utf8"));
SwaggerParser.validate(document).then(
  (api) => {
    console.log("valid: " + Object.keys(api.paths).length + " paths");
  },
  (err) => {
    console.error("invalid: " + err.message);
    if (err.details) console.error(JSON.stringify(err.details, null, 2).slice(0, 20000));
    process.exit(1);
  });
