// validate.js — validates an OpenAPI document with @apidevtools/swagger-parser
// (installed into web/node_modules by scripts/npm-deps.sh): the JSON schema of
// its OpenAPI version, then the parser's own checks (every $ref resolves,
// operationIds are unique, ...). Then, optionally, real answers of the server
// against the document: each sample {"path", "method", "status", "body"} names
// a path template of the document; its body must match that operation's
// application/json answer for the status (ajv, with OpenAPI 3.0's "nullable";
// formats are not checked).
//
// Usage: node tests/openapi/validate.js DOCUMENT.json [SAMPLES.json]
// Prints "valid: N paths, M answers" and exits 0, or prints what is wrong and
// exits 1. A missing package exits 2 with the command that installs it.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const web = path.resolve(__dirname, "..", "..", "web");
const fromWeb = createRequire(path.join(web, "package.json"));
let SwaggerParser, Ajv;
try {
  SwaggerParser = fromWeb("@apidevtools/swagger-parser");
  Ajv = fromWeb("ajv");
} catch (e) {
  console.error("validate.js: the npm packages of " + web + " are not installed: " +
                "run `bash scripts/npm-deps.sh` (" + e.message + ")");
  process.exit(2);
}

const [documentFile, samplesFile] = process.argv.slice(2);
if (!documentFile) {
  console.error("usage: node validate.js DOCUMENT.json [SAMPLES.json]");
  process.exit(2);
}
const document = JSON.parse(fs.readFileSync(documentFile, "utf8"));
const samples = samplesFile ? JSON.parse(fs.readFileSync(samplesFile, "utf8")) : [];

function checkSamples(api) {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const problems = [];
  for (const s of samples) {
    const where = s.method.toUpperCase() + " " + s.path + " " + s.status;
    const operation = (api.paths[s.path] || {})[s.method];
    const answer = operation && operation.responses[String(s.status)];
    const media = answer && answer.content && answer.content["application/json"];
    if (!media || !media.schema) {
      problems.push(where + ": the document has no JSON answer for it");
      continue;
    }
    const check = ajv.compile(media.schema);
    if (!check(s.body)) {
      problems.push(where + ": " + ajv.errorsText(check.errors) + "\n  body: " +
                    JSON.stringify(s.body).slice(0, 500));
    }
  }
  return problems;
}

SwaggerParser.validate(document).then(
  (api) => {
    const problems = checkSamples(api);
    if (problems.length) {
      console.error("answers that do not match the document:\n" + problems.join("\n"));
      process.exit(1);
    }
    console.log("valid: " + Object.keys(api.paths).length + " paths, " + samples.length + " answers");
  },
  (err) => {
    console.error("invalid: " + err.message);
    if (err.details) console.error(JSON.stringify(err.details, null, 2).slice(0, 20000));
    process.exit(1);
  });
