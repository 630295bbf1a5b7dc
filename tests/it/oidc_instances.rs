//! OpenID Connect across two server processes on one PostgreSQL database: a code issued by
//! one instance is redeemed at the other, and one refresh token presented to both at once
//! rotates only once (the other use is reuse).

use crate::common::cluster::*;
use crate::common::oidc::REDIRECT;
use crate::common::*;
use reqwest::StatusCode;

const CHALLENGE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn a_code_from_one_instance_is_redeemed_at_the_other_and_a_refresh_rotates_once() {
    let cluster = Cluster::start().await;
    let key = ready_user(&cluster, "jan", &cluster.a).await;
    let created = cluster.cli(&[
        "client",
        "create",
        "--name",
        "Verzuimcoach",
        "--redirect-uri",
        REDIRECT,
        "--first-party",
    ]);
    let field = |name: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_owned()
    };
    let (id, secret) = (field("client_id"), field("client_secret"));

    // Log in through instance a, starting at the authorization endpoint.
    let query = serde_urlencoded::to_string([
        ("client_id", id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
    .unwrap();
    let (browser, csrf) = {
        let browser = browser();
        let start = browser
            .get(format!("{}/authorize?{query}", cluster.a.address))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&start), "/login");
        let csrf = csrf_from(&browser, &format!("{}/login", cluster.a.address)).await;
        let login = post(
            &browser,
            format!("{}/login", cluster.a.address),
            &csrf,
            &[("username", "jan"), ("password", GOOD)],
        )
        .await;
        assert_eq!(location(&login), "/2fa");
        post(
            &browser,
            format!("{}/2fa/app", cluster.a.address),
            &csrf,
            &[],
        )
        .await;
        (browser, csrf)
    };
    // The period after the one ready_user used.
    let code = app_code(&key, now() + 30);
    let done = send_code(&browser, &cluster.a, &csrf, &code).await;
    let resume = location(&done);
    assert!(resume.starts_with("/authorize?"), "{resume}");
    let back = browser
        .get(format!("{}{resume}", cluster.a.address))
        .send()
        .await
        .unwrap();
    let back = location(&back);
    let code = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    // Redeemed at instance b.
    let token = |instance: &Instance, form: Vec<(&'static str, String)>| {
        let url = format!("{}/oauth2/token", instance.address);
        let (id, secret) = (id.clone(), secret.clone());
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (
                status,
                serde_json::from_str::<serde_json::Value>(&response.text().await.unwrap()).unwrap(),
            )
        }
    };
    let (status, tokens) = token(
        &cluster.b,
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", CHALLENGE_VERIFIER.into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    // One refresh token at both instances at once: one rotation, the other is reuse.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let form = || {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.clone()),
        ]
    };
    let (one, other) = tokio::join!(token(&cluster.a, form()), token(&cluster.b, form()));
    let statuses = [one.0, other.0];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{one:?} {other:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        1
    );
}

#[tokio::test]
#[cfg_attr(
    not(test_postgres),
    ignore = "POORTWACHTER_TEST_POSTGRES_URL is not set"
)]
async fn instances_started_together_on_an_empty_database_make_one_key_set() {
    // Both start at once on a fresh schema: one signing key per algorithm, the same JWKS at
    // both from the first request on (before, each made its own for up to 30 s).
    let cluster = Cluster::start().await;
    let http = reqwest::Client::new();
    let mut sets = Vec::new();
    for instance in [&cluster.a, &cluster.b] {
        let jwks = http
            .get(format!("{}/oauth2/jwks", instance.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let jwks: serde_json::Value = serde_json::from_str(&jwks).unwrap();
        let mut kids: Vec<String> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| format!("{} {}", k["alg"], k["kid"]))
            .collect();
        kids.sort();
        sets.push(kids);
    }
    assert_eq!(sets[0], sets[1], "both publish the same keys");
    assert_eq!(
        sets[0].len(),
        2,
        "one RS256 and one ES256 key: {:?}",
        sets[0]
    );
}
