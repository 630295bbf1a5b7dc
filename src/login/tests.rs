//! The login service's outcomes without HTTP: the steps called directly, over a real SQLite
//! store in a temporary folder, with cheap Argon2 and a `ManualClock`. (The pages around
//! them are tested through the real server in `tests/it/`.)

use std::sync::Arc;

use tokio::sync::Notify;

use super::password_step::{self, PasswordAttempt, PasswordOutcome};
use super::second_step::{self, AfterStep, CodeAttempt, StepOutcome};
use crate::admin::Admin;
use crate::clock::ManualClock;
use crate::config::Settings;
use crate::domain::account::LoginStage;
use crate::domain::lang::Lang;
use crate::domain::password::{Password, PasswordPolicy};
use crate::domain::second_factor::{MAX_WRONG_CODES, setup_mail_limits};
use crate::domain::token::Token;
use crate::domain::totp::{TotpSecret, step_at};
use crate::hashing::PasswordHasher;
use crate::mail::compose;
use crate::services::Services;
use crate::store::{NewTotpSetup, PoolSettings, Session, SetupOutcome, SqliteStore, UserId};
use crate::texts::Texts;

const PASSWORD: &str = "Fiets-Sleutel-2024!";
const CLIENT: &str = "192.0.2.7";

struct World {
    services: Services,
    clock: Arc<ManualClock>,
    _data: tempfile::TempDir,
}

async fn world() -> World {
    let data = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: data.path().to_owned(),
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..Settings::default()
    };
    let pool = PoolSettings {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(5),
    };
    let store = SqliteStore::connect(&settings.database_url(), &pool)
        .await
        .unwrap();
    let keyring = Arc::new(settings.keyring().unwrap());
    let params = settings.argon2_params().unwrap();
    let hasher = PasswordHasher::new(params, settings.hash_pool()).unwrap();
    let clock = ManualClock::starting_now();
    let services = Services {
        store: Arc::new(store),
        settings: Arc::new(settings),
        hasher,
        clock: clock.clone(),
        keyring,
        outbox_wake: Arc::new(Notify::new()),
        logout_wake: Arc::new(Notify::new()),
    };
    World {
        services,
        clock,
        _data: data,
    }
}

/// `jan` of Acme, invited and activated with [`PASSWORD`] (no app yet).
async fn activated_user(services: &Services) -> UserId {
    let admin = Admin::new(
        services.store.clone(),
        services.settings.clone(),
        services.clock.clone(),
    );
    let policy = PasswordPolicy::default();
    admin
        .create_organization("acme", "Acme B.V.", Lang::Nl, policy)
        .await
        .unwrap();
    let invited = admin
        .invite("acme", "jan", "jan@example.nl", "Jan de Vries")
        .await
        .unwrap();
    let token = Token::parse(invited.link.rsplit('/').next().unwrap()).unwrap();
    let hash = services
        .hasher
        .hash(Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let now = services.clock.now();
    services
        .store
        .activate(&token.hash(), &hash, now)
        .await
        .unwrap()
        .unwrap()
}

async fn log_in(services: &Services, password: &str) -> PasswordOutcome {
    let attempt = PasswordAttempt {
        client: CLIENT,
        username: "jan",
        password,
        device: None,
        previous_session: None,
    };
    password_step::log_in(services, Texts::of(Lang::Nl), attempt)
        .await
        .unwrap()
}

/// The session a password step started.
async fn session_of(services: &Services, outcome: PasswordOutcome) -> Session {
    let PasswordOutcome::SecondFactorNeeded(token) = outcome else {
        panic!("the password alone must lead to the second step");
    };
    services
        .store
        .session(&token.hash())
        .await
        .unwrap()
        .unwrap()
}

/// A pending app set-up for `user`, as the set-up e-mail starts it.
async fn pending_app(services: &Services, user: UserId) -> TotpSecret {
    let secret = TotpSecret::generate(&mut rand::rngs::OsRng);
    let sealed = services
        .keyring
        .seal(user, secret.expose_bytes(), &mut rand::rngs::OsRng);
    let to = compose::mailbox("Jan de Vries", "jan@example.nl").unwrap();
    let sender = crate::mail::sender::Sender::new(&services.settings, "Acme", &Default::default());
    let mail = compose::notice(&sender, to, Lang::Nl, "Test", "s", "b").unwrap();
    let now = services.clock.now();
    let setup = NewTotpSetup {
        user_id: user,
        sealed: &sealed,
        expires_at: now + 3600,
        mail: &mail,
        now,
    };
    let limits = setup_mail_limits(60, 5);
    let started = services.store.start_totp_setup(&setup, &limits).await;
    assert_eq!(started.unwrap(), SetupOutcome::Started);
    secret
}

async fn type_code(services: &Services, session: &Session, code: &str) -> StepOutcome {
    let attempt = CodeAttempt {
        session,
        client: CLIENT,
        typed: code,
        remember: None,
    };
    second_step::with_app(services, Texts::of(Lang::Nl), attempt)
        .await
        .unwrap()
}

fn code_now(world: &World, secret: &TotpSecret) -> String {
    let step = step_at(world.services.clock.now());
    format!("{:06}", secret.code_at_step(step))
}

#[tokio::test]
async fn a_right_password_opens_only_the_second_step_and_a_wrong_one_is_refused() {
    let world = world().await;
    let services = &world.services;
    activated_user(services).await;

    assert!(matches!(
        log_in(services, "not the password").await,
        PasswordOutcome::Refused
    ));
    let session = session_of(services, log_in(services, PASSWORD).await).await;
    assert_eq!(session.stage, LoginStage::SecondFactor);
}

#[tokio::test]
async fn the_first_code_ends_the_set_up_on_the_herstelcodes_until_saved_and_a_replay_is_refused() {
    let world = world().await;
    let services = &world.services;
    let user = activated_user(services).await;
    let secret = pending_app(services, user).await;
    let session = session_of(services, log_in(services, PASSWORD).await).await;

    let code = code_now(&world, &secret);
    let StepOutcome::Passed {
        session: token,
        next,
        ..
    } = type_code(services, &session, &code).await
    else {
        panic!("the app's code must pass");
    };
    assert_eq!(next, AfterStep::SaveRecoveryCodes);
    let complete = services
        .store
        .session(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(complete.stage, LoginStage::Complete);
    assert_eq!(services.store.recovery_codes_left(user).await.unwrap(), 10);

    // A later login: the same code is spent, the next period's code completes it.
    let later = session_of(services, log_in(services, PASSWORD).await).await;
    assert!(matches!(
        type_code(services, &later, &code).await,
        StepOutcome::Refused(_)
    ));
    world.clock.advance(30);
    let next = code_now(&world, &secret);
    let StepOutcome::Passed { next, .. } = type_code(services, &later, &next).await else {
        panic!("a fresh code must pass");
    };
    // The set was never confirmed as saved: this login asks for it again.
    assert_eq!(next, AfterStep::SaveRecoveryCodes);

    // Confirmed: the next login goes on.
    services
        .store
        .forget_recovery_codes_reveal(user)
        .await
        .unwrap();
    let last = session_of(services, log_in(services, PASSWORD).await).await;
    world.clock.advance(30);
    let code = code_now(&world, &secret);
    let StepOutcome::Passed { next, .. } = type_code(services, &last, &code).await else {
        panic!("a fresh code must pass");
    };
    assert_eq!(next, AfterStep::Continue);
}

#[tokio::test]
async fn too_many_wrong_codes_end_the_half_login() {
    let world = world().await;
    let services = &world.services;
    let user = activated_user(services).await;
    pending_app(services, user).await;
    let session = session_of(services, log_in(services, PASSWORD).await).await;

    for _ in 1..MAX_WRONG_CODES {
        let outcome = type_code(services, &session, "000000").await;
        assert!(matches!(outcome, StepOutcome::Refused(_)));
    }
    let last = type_code(services, &session, "000000").await;
    assert!(matches!(last, StepOutcome::TooManyCodes));
}

#[tokio::test]
async fn without_an_app_there_is_no_code_step() {
    let world = world().await;
    let services = &world.services;
    activated_user(services).await;
    let session = session_of(services, log_in(services, PASSWORD).await).await;
    assert!(matches!(
        type_code(services, &session, "123456").await,
        StepOutcome::Unavailable
    ));
}
