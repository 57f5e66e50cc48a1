// The main flow through openapi-fetch, typed by openapi-typescript's output for the live
// schema (generated/schema.d.ts): register, grant consent, upload a Plaid body, poll the
// upload, read profile, signals, persona and recommendations. `tsc --noEmit` checks every
// path, parameter and body against the schema; .ci/client-check also runs the compiled file.
//
//   node generated/build/flow.js BASE_URL PLAID_JSON
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

function fail(step: string, status: number, error: unknown): never {
  throw new Error(`${step}: ${status} ${JSON.stringify(error)}`);
}

export async function flow(baseUrl: string, plaidPath: string): Promise<void> {
  const client = createClient<paths>({ baseUrl });

  // 1. Register: the answer carries the user and a token pair.
  const email = `client-check-ts-${Date.now()}@example.com`;
  const registered = await client.POST("/api/v1/auth/register", {
    body: { email, password: "correct horse battery staple 7" },
  });
  if (!registered.data) fail("register", registered.response.status, registered.error);
  const token: string = registered.data.access;

  // 2. Every later request sends the access token.
  client.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });

  // 3. Consent, then the upload (multipart field `file`).
  const consent = await client.POST("/api/v1/consent", { body: {} });
  if (!consent.data) fail("grantConsent", consent.response.status, consent.error);

  const file = new Blob([await readFile(plaidPath)], { type: "application/json" });
  const accepted = await client.POST("/api/v1/data/upload", {
    body: { file: "" },
    bodySerializer() {
      const form = new FormData();
      form.append("file", file, basename(plaidPath));
      return form;
    },
  });
  if (!accepted.data) fail("createUpload", accepted.response.status, accepted.error);
  const uploadId = accepted.data.upload_id;

  // 4. Poll until processed.
  let status = accepted.data.status;
  for (let i = 0; i < 120 && (status === "queued" || status === "processing"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const upload = await client.GET("/api/v1/data/upload/{upload_id}", {
      params: { path: { upload_id: uploadId } },
    });
    if (!upload.data) fail("getUpload", upload.response.status, upload.error);
    status = upload.data.status;
  }
  if (status !== "processed") fail("getUpload", 200, { status });

  // 5. The insights, for `me`.
  const me = { params: { path: { user_id: "me" } } };
  const profile = await client.GET("/api/v1/users/{user_id}/profile", me);
  if (!profile.data) fail("getProfile", profile.response.status, profile.error);
  const signals = await client.GET("/api/v1/users/{user_id}/signals", me);
  if (!signals.data) fail("getSignals", signals.response.status, signals.error);
  const persona = await client.GET("/api/v1/users/{user_id}/persona", me);
  if (!persona.data) fail("getPersona", persona.response.status, persona.error);
  const recommendations = await client.GET("/api/v1/users/{user_id}/recommendations", {
    params: { path: { user_id: "me" }, query: { page: 1 } },
  });
  if (!recommendations.data) {
    fail("listUserRecommendations", recommendations.response.status, recommendations.error);
  }
  console.log(
    `ts flow ok: upload ${uploadId} ${status}, ${profile.data.accounts.length} accounts, ` +
      `signals as of ${signals.data.as_of}, ${recommendations.data.count} recommendations`,
  );
}

const [baseUrl, plaidPath] = process.argv.slice(2);
if (baseUrl && plaidPath) {
  flow(baseUrl, plaidPath).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
