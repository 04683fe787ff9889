// CycloneDX 1.6 Cryptography BOM from the marts: the algorithms negotiated on the wire, the certificates
// seen (with their public keys as related crypto material) and the protocols (TLS/SSH versions with their
// cipher suites), linked by `dependencies`.
import { randomUUID } from "node:crypto";
import { runQuery, type Cell } from "./query.ts";

type Json = Record<string, unknown>;

interface AlgoRow {
  kind: string;
  algorithm: string;
  registry: string | null;
  identifier: string | null;
  family: string | null;
  classical_bits: number | null;
  nist_pq_level: number | null;
  quantum_status: string | null;
  handshakes: number;
}

const ref = (kind: string, name: string) => `crypto/${kind}/${name}`.replace(/\s+/g, "_");

function primitive(kind: string, name: string, family: string | null, qs: string | null): string {
  const f = (family ?? "").toUpperCase();
  const n = name.toUpperCase();
  if (kind === "signature" || kind === "hostkey" || kind === "x509_signature") return "signature";
  if (kind === "mac") return n === "AEAD" ? "ae" : "mac";
  if (kind === "kex") {
    if (qs === "hybrid") return "combiner";
    if (qs === "post-quantum") return "kem";
    if (n === "RSA" || n === "RSA_PSK" || f === "RSA") return "pke";
    return "key-agree";
  }
  if (kind === "cipher") {
    if (/GCM|CCM|POLY1305|AEGIS|MGM/.test(n)) return "ae";
    if (/RC4|ARCFOUR|CHACHA|SALSA/.test(n)) return "stream-cipher";
    if (n === "NULL" || n === "NONE") return "other";
    return "block-cipher";
  }
  if (kind === "x509_key") {
    if (/ML-KEM/.test(f)) return "kem";
    if (/ECDH|FFDH/.test(f)) return "key-agree";
    if (f === "RSA") return "pke";
    return "signature";
  }
  return "unknown";
}

function functions(p: string): string[] {
  switch (p) {
    case "kem": case "combiner": return ["keygen", "encapsulate", "decapsulate"];
    case "key-agree": return ["keygen", "keyderive"];
    case "pke": return ["encrypt", "decrypt"];
    case "signature": return ["sign", "verify"];
    case "ae": case "block-cipher": case "stream-cipher": return ["encrypt", "decrypt"];
    case "mac": return ["tag"];
    default: return ["other"];
  }
}

function mode(name: string): string | undefined {
  const m = /(GCM|CCM|CBC|CTR|ECB|CFB|OFB)/i.exec(name);
  return m ? m[1].toLowerCase() : undefined;
}

function algorithmComponent(kind: string, name: string, o: Partial<AlgoRow> & { oid?: string | null; curve?: string | null; paramSet?: string | null }): Json {
  const p = primitive(kind, name, o.family ?? null, o.quantum_status ?? null);
  const props: Json = { primitive: p, cryptoFunctions: functions(p) };
  const md = kind === "cipher" ? mode(name) : undefined;
  if (md) props.mode = md;
  if (o.curve) props.curve = o.curve;
  if (o.paramSet) props.parameterSetIdentifier = o.paramSet;
  else {
    const bitsInName = /(\d{3,4})/.exec(name);
    if (bitsInName) props.parameterSetIdentifier = bitsInName[1];
  }
  if (o.classical_bits !== null && o.classical_bits !== undefined) props.classicalSecurityLevel = o.classical_bits;
  // NIST category 0 for everything a quantum computer breaks; 1-5 for PQ/hybrid; symmetric: by key size.
  let level = o.nist_pq_level;
  if (level === null || level === undefined) {
    if (o.quantum_status === "grover-weakened" && o.classical_bits) level = o.classical_bits >= 256 ? 5 : o.classical_bits >= 192 ? 3 : o.classical_bits >= 128 ? 1 : 0;
    else level = 0;
  }
  props.nistQuantumSecurityLevel = Math.max(0, Math.min(6, level));
  const crypto: Json = { assetType: "algorithm", algorithmProperties: props };
  if (o.oid) crypto.oid = o.oid;
  const c: Json = { type: "cryptographic-asset", "bom-ref": ref(kind, name), name, cryptoProperties: crypto };
  const properties: Json[] = [];
  if (o.quantum_status) properties.push({ name: "cryptoscope:quantum_status", value: o.quantum_status });
  if (o.registry) properties.push({ name: "cryptoscope:registry", value: o.registry });
  if (o.identifier) properties.push({ name: "cryptoscope:identifier", value: o.identifier });
  if (o.handshakes !== undefined) properties.push({ name: "cryptoscope:handshakes", value: String(o.handshakes) });
  if (properties.length) c.properties = properties;
  return c;
}

const REGISTRY: Record<string, string[]> = {
  kex: ["tls_group", "ssh_kex"],
  cipher: ["ssh_cipher"],
  signature: ["tls_signature_scheme"],
  hostkey: ["ssh_hostkey"],
  mac: ["ssh_mac"],
};

const num = (v: Cell): number | null => (v === null ? null : Number(v));
const str = (v: Cell): string | null => (v === null ? null : String(v));

export async function buildCbom(db: string, opts: { timestamp?: string; serial?: string } = {}): Promise<Json> {
  const regs = Object.entries(REGISTRY).map(([k, rs]) => `(kind = '${k}' AND r.registry IN (${rs.map((x) => `'${x}'`).join(", ")}))`).join(" OR ");
  const algos = await runQuery(db, `
    WITH u AS (SELECT kind, algorithm, sum(handshakes)::BIGINT AS handshakes, any_value(quantum_status) AS qs, any_value(classical_bits) AS bits
               FROM inv_algorithm_usage WHERE kind <> 'version' GROUP BY kind, algorithm)
    SELECT u.kind, u.algorithm, u.handshakes, r.registry, r.identifier, r.family,
      coalesce(r.classical_bits, u.bits) AS classical_bits, r.nist_pq_level, coalesce(r.quantum_status, u.qs) AS quantum_status
    FROM u LEFT JOIN ref_algorithms r ON r.name = u.algorithm AND (${regs})
    ORDER BY u.kind, u.algorithm`);
  const components: Json[] = [];
  const dependencies = new Map<string, Set<string>>();
  const depend = (from: string, to: string) => {
    if (!dependencies.has(from)) dependencies.set(from, new Set());
    dependencies.get(from)!.add(to);
  };
  const seen = new Set<string>();
  const add = (c: Json) => {
    const r = c["bom-ref"] as string;
    if (seen.has(r)) return;
    seen.add(r);
    components.push(c);
  };
  for (const a of algos.rows) {
    const kind = String(a.kind);
    const name = String(a.algorithm);
    if (kind === "mac" && name === "AEAD") continue; // SSH's AEAD ciphers carry no separate MAC
    add(algorithmComponent(kind, name, {
      registry: str(a.registry), identifier: str(a.identifier), family: str(a.family), classical_bits: num(a.classical_bits),
      nist_pq_level: num(a.nist_pq_level), quantum_status: str(a.quantum_status), handshakes: Number(a.handshakes),
    }));
  }

  // Protocols: one per (proto, version), with the suites and algorithms negotiated under it.
  const protoRows = (await runQuery(db, `SELECT proto, version AS version_name, suites, kex, ciphers, signatures AS sigs, macs, handshakes
    FROM inv_protocols ORDER BY proto, version`)).rows;
  const suites = await runQuery(db, `SELECT name, code, kex, cipher FROM seed_tls_cipher_suites`);
  const suiteByName = new Map(suites.rows.map((s) => [String(s.name), s]));
  for (const p of protoRows) {
    const proto = String(p.proto);
    const version = p.version_name === null ? "unknown" : String(p.version_name);
    const bomRef = ref("protocol", `${proto}/${version}`);
    const algoRefs: string[] = [];
    const pushRefs = (kind: string, list: Cell) => {
      for (const n of (list as Cell[] | null) ?? []) {
        const r = ref(kind, String(n));
        if (seen.has(r)) algoRefs.push(r);
      }
    };
    pushRefs("kex", p.kex);
    pushRefs("cipher", p.ciphers);
    pushRefs(proto === "ssh" ? "hostkey" : "signature", p.sigs);
    if (proto === "ssh") pushRefs("mac", p.macs);
    const cipherSuites = ((p.suites as Cell[] | null) ?? []).map((n) => {
      const s = suiteByName.get(String(n));
      const cs: Json = { name: String(n) };
      if (s && s.code !== null) {
        const code = Number(s.code);
        cs.identifiers = [`0x${((code >> 8) & 0xff).toString(16).padStart(2, "0").toUpperCase()}`, `0x${(code & 0xff).toString(16).padStart(2, "0").toUpperCase()}`];
        const cr = ref("cipher", String(s.cipher));
        if (seen.has(cr)) cs.algorithms = [cr];
      }
      return cs;
    });
    const protocolProperties: Json = {
      type: proto === "ssh" ? "ssh" : proto === "tls" || proto === "quic" ? "tls" : "other",
      version: version.replace(/^(TLS|SSH|DTLS|SSL) /, ""),
    };
    if (cipherSuites.length) protocolProperties.cipherSuites = cipherSuites;
    if (algoRefs.length) protocolProperties.cryptoRefArray = algoRefs;
    add({
      type: "cryptographic-asset", "bom-ref": bomRef, name: `${proto.toUpperCase()} ${protocolProperties.version}`,
      cryptoProperties: { assetType: "protocol", protocolProperties },
      properties: [{ name: "cryptoscope:handshakes", value: String(p.handshakes) }, { name: "cryptoscope:proto", value: proto }],
    });
    for (const r of algoRefs) depend(bomRef, r);
  }

  // Certificates with their signature algorithm and public key.
  const certs = await runQuery(db, `
    SELECT c.sha256, c.subject, c.issuer, c.not_before, c.not_after, c.key_alg, c.key_bits, c.key_curve, c.key_family, c.sig_alg,
      c.quantum_status, c.classical_bits,
      (SELECT any_value(oid) FROM seed_x509_algorithms s WHERE s.kind = 'signature' AND s.name = c.sig_alg) AS sig_oid,
      (SELECT any_value(nist_pq_level) FROM seed_x509_algorithms s WHERE s.kind = 'signature' AND s.name = c.sig_alg) AS sig_level
    FROM inv_certificates c ORDER BY c.sha256`);
  for (const c of certs.rows) {
    const sha = String(c.sha256);
    const certRef = ref("certificate", sha);
    const sigName = str(c.sig_alg);
    const keyName = [str(c.key_family) ?? str(c.key_alg) ?? "unknown", c.key_curve ?? c.key_bits].filter((x) => x !== null).join("-");
    const sigRef = sigName ? ref("x509_signature", sigName) : null;
    if (sigName) add(algorithmComponent("x509_signature", sigName, { oid: str(c.sig_oid), nist_pq_level: num(c.sig_level), quantum_status: str(c.quantum_status) }));
    const keyAlgRef = ref("x509_key", keyName);
    add(algorithmComponent("x509_key", keyName, {
      family: str(c.key_family), classical_bits: num(c.classical_bits), quantum_status: str(c.quantum_status),
      curve: str(c.key_curve), paramSet: c.key_bits === null ? null : String(c.key_bits),
      nist_pq_level: c.quantum_status === "post-quantum" ? null : 0,
    }));
    const keyRef = ref("public-key", sha);
    const rcm: Json = { type: "public-key", algorithmRef: keyAlgRef };
    if (c.key_bits !== null) rcm.size = Number(c.key_bits);
    add({ type: "cryptographic-asset", "bom-ref": keyRef, name: `public key of ${str(c.subject) ?? sha}`, cryptoProperties: { assetType: "related-crypto-material", relatedCryptoMaterialProperties: rcm } });
    const props: Json = { certificateFormat: "X.509" };
    if (c.subject !== null) props.subjectName = String(c.subject);
    if (c.issuer !== null) props.issuerName = String(c.issuer);
    if (c.not_before !== null) props.notValidBefore = String(c.not_before);
    if (c.not_after !== null) props.notValidAfter = String(c.not_after);
    if (sigRef) props.signatureAlgorithmRef = sigRef;
    props.subjectPublicKeyRef = keyRef;
    add({
      type: "cryptographic-asset", "bom-ref": certRef, name: str(c.subject) ?? sha,
      cryptoProperties: { assetType: "certificate", certificateProperties: props },
      properties: [{ name: "cryptoscope:sha256", value: sha }],
    });
    if (sigRef) depend(certRef, sigRef);
    depend(certRef, keyRef);
    depend(keyRef, keyAlgRef);
  }

  return {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: opts.serial ?? `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: opts.timestamp ?? new Date().toISOString(),
      tools: { components: [{ type: "application", name: "cryptoscope", version: "0.1.0" }] },
    },
    components,
    dependencies: [...dependencies].map(([r, ds]) => ({ ref: r, dependsOn: [...ds] })),
  };
}
