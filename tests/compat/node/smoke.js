// The official `twilio` npm package against a twofa provider: contract section 7, items 1, 6,
// 8, 10, 12 and 13, with only `client.verify.baseUrl` changed. Prints one JSON line per step;
// the Python test that runs this script supplies the account and reads codes from the outbox.
"use strict";

const twilio = require("twilio");

const [baseUrl, accountSid, authToken, phone] = process.argv.slice(2);

function client(token) {
  const c = twilio(accountSid, token);
  c.verify.baseUrl = baseUrl;
  return c;
}

async function expectError(promise) {
  try {
    await promise;
  } catch (err) {
    return { status: err.status, code: err.code, moreInfo: err.moreInfo, message: err.message };
  }
  return null;
}

async function readLine() {
  // The test writes the code from the outbox on stdin once we ask for it.
  return new Promise((resolve) => {
    process.stdin.once("data", (chunk) => resolve(chunk.toString().trim()));
  });
}

async function main() {
  const ok = client(authToken);
  const out = {};
  const service = await ok.verify.v2.services.create({ friendlyName: "Node" });
  out.service = { sid: service.sid, codeLength: service.codeLength, url: service.url,
    dateIsDate: service.dateCreated instanceof Date };
  out.wrongToken = await expectError(client("0".repeat(32)).verify.v2.services(service.sid).fetch());
  const verify = ok.verify.v2.services(service.sid);
  const started = await verify.verifications.create({ to: phone, channel: "sms" });
  out.started = { sid: started.sid, status: started.status, valid: started.valid,
    attempts: started.sendCodeAttempts.length };
  console.log(JSON.stringify({ need: "code" }));
  const code = await readLine();
  const checked = await verify.verificationChecks.create({ to: phone, code });
  out.checked = { sid: checked.sid, status: checked.status, valid: checked.valid };
  out.again = await expectError(verify.verificationChecks.create({ to: phone, code }));
  const second = await verify.verifications.create({ to: phone, channel: "sms" });
  const wrong = [];
  for (let i = 0; i < 5; i += 1) {
    const wrongCode = code === "000000" ? "111111" : "000000";
    const r = await verify.verificationChecks.create({ to: phone, code: wrongCode });
    wrong.push(r.status);
  }
  out.wrong = wrong;
  out.sixth = await expectError(verify.verificationChecks.create({ to: phone, code }));
  out.secondSid = second.sid;
  console.log(JSON.stringify({ result: out }));
  process.exit(0);
}

main().catch((err) => {
  console.log(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }));
  process.exit(1);
});
