// The CBOM of the fixture lake, validated against the official CycloneDX 1.6 JSON schema (shipped inside
// @cyclonedx/cyclonedx-library, with its SPDX and JSF sub-schemas; offline), and checked against the fixture.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCbom } from "../models/cbom.ts";
import { buildModels } from "../models/runner.ts";
import { loadPolicy } from "../models/policy.ts";
import { AS_OF, writeFixtureLake } from "./models-fixture.ts";

const require = createRequire(import.meta.url);
const schemaDir = join(dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json")), "res", "schema");
const load = (f: string) => JSON.parse(readFileSync(join(schemaDir, f), "utf8"));

function validator() {
  const ajv = new (Ajv as unknown as typeof Ajv.default)({ strict: false, allErrors: true, logger: false });
  (addFormats as unknown as typeof addFormats.default)(ajv);
  // bom-1.6 refers to its sub-schemas by these relative names, resolved against its $id
  const spdx = load("spdx.SNAPSHOT.schema.json");
  const jsf = load("jsf-0.82.SNAPSHOT.schema.json");
  ajv.addSchema({ ...spdx, $id: "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json" });
  ajv.addSchema({ ...jsf, $id: "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json" });
  return ajv.compile(load("bom-1.6.SNAPSHOT.schema.json"));
}

type Component = { "bom-ref": string; name: string; cryptoProperties: Record<string, any>; properties?: { name: string; value: string }[] };
let db: string;
let bom: { components: Component[]; dependencies: { ref: string; dependsOn: string[] }[]; specVersion: string };

beforeAll(async () => {
  const lake = await writeFixtureLake();
  db = (await buildModels({ lake, policy: { ...loadPolicy(), as_of: AS_OF } })).db;
  bom = (await buildCbom(db)) as typeof bom;
});

describe("cbom", () => {
  it("validates against the CycloneDX 1.6 schema", () => {
    const validate = validator();
    const ok = validate(bom);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(bom.specVersion).toBe("1.6");
  });

  it("a broken BOM fails the same validation (the validator is real)", () => {
    const validate = validator();
    const broken = structuredClone(bom);
    broken.components[0].cryptoProperties.assetType = "spaceship";
    expect(validate(broken)).toBe(false);
  });

  it("holds the fixture's algorithms, protocols and certificates, linked by dependencies", () => {
    const by = new Map(bom.components.map((c) => [c["bom-ref"], c]));
    const hybrid = by.get("crypto/kex/X25519MLKEM768")!;
    expect(hybrid.cryptoProperties).toMatchObject({ assetType: "algorithm", algorithmProperties: { primitive: "combiner", nistQuantumSecurityLevel: 3 } });
    expect(by.get("crypto/kex/secp256r1")!.cryptoProperties.algorithmProperties).toMatchObject({ primitive: "key-agree", nistQuantumSecurityLevel: 0, classicalSecurityLevel: 128 });
    expect(by.get("crypto/kex/sntrup761x25519-sha512@openssh.com")!.cryptoProperties.algorithmProperties.primitive).toBe("combiner");
    expect(by.get("crypto/cipher/AES-128-GCM")!.cryptoProperties.algorithmProperties).toMatchObject({ primitive: "ae", mode: "gcm" });
    const protocols = bom.components.filter((c) => c.cryptoProperties.assetType === "protocol").map((c) => c.name).sort();
    expect(protocols).toEqual(["SSH 2.0", "TLS 1.0", "TLS 1.2", "TLS 1.3"]);
    const tls13 = by.get("crypto/protocol/tls/TLS_1.3")!.cryptoProperties.protocolProperties;
    expect(tls13.type).toBe("tls");
    expect(tls13.version).toBe("1.3");
    expect(tls13.cipherSuites.map((s: { name: string; identifiers: string[] }) => [s.name, s.identifiers])).toEqual([
      ["TLS_AES_128_GCM_SHA256", ["0x13", "0x01"]],
      ["TLS_AES_256_GCM_SHA384", ["0x13", "0x02"]],
    ]);
    expect(tls13.cryptoRefArray).toContain("crypto/kex/X25519MLKEM768");
    const certs = bom.components.filter((c) => c.cryptoProperties.assetType === "certificate");
    expect(certs.map((c) => c.name).sort()).toEqual(["CN=expired.example", "CN=legacy.example", "CN=shop.example"]);
    const legacy = certs.find((c) => c.name === "CN=legacy.example")!.cryptoProperties.certificateProperties;
    expect(legacy).toMatchObject({ issuerName: "CN=Old CA", notValidAfter: "2026-06-15T00:00:00.000Z", signatureAlgorithmRef: "crypto/x509_signature/sha1WithRSAEncryption" });
    const key = by.get(legacy.subjectPublicKeyRef)!;
    expect(key.cryptoProperties).toEqual({ assetType: "related-crypto-material", relatedCryptoMaterialProperties: { type: "public-key", algorithmRef: "crypto/x509_key/RSA-1024", size: 1024 } });
    expect(by.get("crypto/x509_signature/sha1WithRSAEncryption")!.cryptoProperties.oid).toBe("1.2.840.113549.1.1.5");
    // every reference points at a component
    for (const d of bom.dependencies) for (const r of [d.ref, ...d.dependsOn]) expect(by.has(r), r).toBe(true);
    expect(by.has("crypto/mac/AEAD")).toBe(false);
  });

  it("cryptoscope cbom --out writes the same document", () => {
    const out = join(mkdtempSync(join(tmpdir(), "cs-cbom-")), "cbom.json");
    const bin = resolve(dirname(fileURLToPath(import.meta.url)), "..", "bin", "cryptoscope");
    const r = spawnSync(bin, ["cbom", "--db", db, "--out", out], { encoding: "utf8", timeout: 120_000 });
    expect(r.status).toBe(0);
    const written = JSON.parse(readFileSync(out, "utf8"));
    expect(validator()(written)).toBe(true);
    expect(written.components.map((c: Component) => c["bom-ref"])).toEqual(bom.components.map((c) => c["bom-ref"]));
  });
});
