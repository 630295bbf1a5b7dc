//! Micro-benchmarks of the pure rules: `cargo bench --bench rules`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use poortwachter::domain::password::{Password, PasswordPolicy};
use poortwachter::domain::token::Token;
use poortwachter::domain::totp::{TotpCode, TotpSecret};

fn totp(c: &mut Criterion) {
    let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
    let now = 1_700_000_000;
    c.bench_function("totp: code for one step", |b| {
        b.iter(|| secret.code_at_step(black_box(now / 30)))
    });
    let wrong = TotpCode::parse("000000").unwrap();
    c.bench_function("totp: verify a wrong code (4 steps)", |b| {
        b.iter(|| secret.verify(black_box(&wrong), now, None))
    });
}

fn policy(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let good = Password::parse("Fiets-Sleutel-2024!").unwrap();
    let common = Password::parse("iloveyou123456").unwrap();
    c.bench_function("policy: check an acceptable password", |b| {
        b.iter(|| policy.broken_by(black_box(&good), &["jdevries", "jan.devries"]))
    });
    c.bench_function("policy: check a password on the blocklist", |b| {
        b.iter(|| policy.broken_by(black_box(&common), &["jdevries"]))
    });
    c.bench_function("password: parse and NFKC-normalise", |b| {
        b.iter(|| Password::parse(black_box("Caf\u{e9}-met-appeltaart-2024")))
    });
}

fn signing(c: &mut Criterion) {
    use poortwachter::domain::oidc::client::SigningAlg;
    use poortwachter::signing_keys::SigningKey;
    let claims = serde_json::json!({ "sub": "x", "aud": "app", "exp": 1_900_000_000 });
    for alg in SigningAlg::ALL {
        let (key, _) = SigningKey::generate(alg);
        let token = key.sign("at+jwt", &claims);
        c.bench_function(&format!("jwt: sign {alg}"), |b| {
            b.iter(|| key.sign("at+jwt", black_box(&claims)))
        });
        c.bench_function(&format!("jwt: verify {alg}"), |b| {
            b.iter(|| key.verify("at+jwt", black_box(&token)))
        });
    }
}

fn tokens(c: &mut Criterion) {
    let mut rng = rand::rngs::OsRng;
    c.bench_function("token: generate (OS random)", |b| {
        b.iter(|| Token::generate(&mut rng))
    });
    let token = Token::generate(&mut rng);
    c.bench_function("token: SHA-256 for lookup", |b| {
        b.iter(|| black_box(&token).hash())
    });
}

/// What the evidence adds to every audit line: one link when it is sealed, one check when
/// `audit verify` walks it, and a signature per webhook delivery.
fn evidence(c: &mut Criterion) {
    use poortwachter::domain::audit_chain::{Anchor, ChainHash, Chained, Walk, link};
    use poortwachter::domain::webhook::Secret;
    let record = Chained {
        at: 1_796_683_324,
        event: "login_code",
        outcome: "success",
        org_id: Some(7),
        user_id: Some(4711),
        username: Some("jan.de.vries"),
        client: Some("203.0.113.9"),
        detail: Some("verzuimcoach"),
    };
    c.bench_function("audit: link one record", |b| {
        b.iter(|| link(black_box(&ChainHash::GENESIS), 1, black_box(&record)))
    });
    let mut hashes = Vec::with_capacity(10_000);
    let mut previous = ChainHash::GENESIS;
    for seq in 1..=10_000 {
        previous = link(&previous, seq, &record);
        hashes.push(previous);
    }
    c.bench_function("audit: verify a walk of 10,000 records", |b| {
        b.iter(|| {
            let mut walk = Walk::from(Anchor::GENESIS);
            for (seq, hash) in (1..).zip(&hashes) {
                walk.next(seq, seq, hash, &record).unwrap();
            }
            walk.checked()
        })
    });
    let secret = Secret::generate(&mut rand::rngs::OsRng);
    let body = br#"{"type":"user.activated","timestamp":"2026-12-07T22:42:04Z","data":{"event_id":"evt_4711","organization":"acme","username":"jan.de.vries"}}"#;
    c.bench_function("webhook: sign one delivery", |b| {
        b.iter(|| secret.sign(black_box("msg_4711"), 1_796_683_324, black_box(body)))
    });
}

criterion_group!(rules, signing, totp, policy, tokens, evidence);
criterion_main!(rules);
