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

criterion_group!(rules, signing, totp, policy, tokens);
criterion_main!(rules);
