// A real OpenID provider for the sign-in tests (tests/oidc.py starts it): node-oidc-provider,
// certified by the OpenID Foundation, on a free 127.0.0.1 port, with the clients, signing key
// and accounts the tests give it in a JSON file:
//
//   {"clients": [...], "jwks": {"keys": [private JWK]}, "accounts": {"sub": {claims}},
//    "login_as": "sub"}
//
// It prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}, once it listens. Sign-in needs
// no typing: an interaction signs in the account `login_as` names (or the request's
// login_hint) and grants what the client asked for. The tests change the provider's state
// through /__test/ (loopback only):
//   PUT  /__test/accounts/<sub>   {claims}   an account's claims from the next token on
//   POST /__test/login-as         {"sub"}    who the next interaction signs in
//   POST /__test/next-id-token    {"id_token"}  the next token response carries this ID token
//                                              instead of its own (a forged or foreign one)
// Claims `roles` and `groups` ride in the ID token with the `openid` scope, as Entra ID's app
// roles do.

import { readFileSync } from "node:fs";
import http from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts || {};
let loginAs = config.login_as || Object.keys(accounts)[0];
let nextIdToken = null;

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch (error) {
        reject(error);
      }
    });
  });
}

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(text);
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: config.jwks,
    cookies: { keys: ["a key for the test provider's cookies"] },
    claims: {
      openid: ["sub", "roles", "groups"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
    },
    // The claims of the granted scopes in the ID token itself, as Entra ID sends them.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      if (!accounts[sub]) {
        return undefined;
      }
      return {
        accountId: sub,
        async claims() {
          return { sub, ...accounts[sub] };
        },
      };
    },
  });
  provider.proxy = false;
  // The tests' stand-in for a provider that hands out someone else's ID token.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === "/token" && nextIdToken && ctx.body && ctx.body.id_token) {
      ctx.body.id_token = nextIdToken;
      nextIdToken = null;
    }
  });
  const callback = provider.callback();

  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (prompt.name === "login") {
      const accountId = params.login_hint || loginAs;
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details || {};
    if (missing.missingOIDCScope) {
      grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    }
    if (missing.missingOIDCClaims) {
      grant.addOIDCClaims(missing.missingOIDCClaims);
    }
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(" "));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  async function testControl(req, res, path) {
    const body = await readJson(req);
    if (req.method === "PUT" && path.startsWith("/__test/accounts/")) {
      accounts[decodeURIComponent(path.slice("/__test/accounts/".length))] = body;
    } else if (req.method === "POST" && path === "/__test/login-as") {
      loginAs = body.sub;
    } else if (req.method === "POST" && path === "/__test/next-id-token") {
      nextIdToken = body.id_token;
    } else {
      answer(res, 404, { error: "unknown test control" });
      return;
    }
    answer(res, 200, { ok: true });
  }

  server.on("request", (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    const handle = path.startsWith("/interaction/")
      ? interaction(req, res)
      : path.startsWith("/__test/")
        ? testControl(req, res, path)
        : Promise.resolve(callback(req, res));
    handle.catch((error) => {
      if (!res.headersSent) {
        answer(res, 500, { error: String(error) });
      }
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
