//! `poortwachter backup` against a server under login load, and a server started from the
//! copy: the accounts, their passwords and their authenticator apps all work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::common::*;
use reqwest::StatusCode;

const GOOD: &str = "Fiets-Sleutel-2024!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_login_load_restores_to_a_working_service() {
    let app = spawn_app().await;
    app.active_user("acme", "jan", GOOD).await;
    app.full_login("jan", GOOD).await;
    app.active_user("acme", "piet", GOOD).await;

    // The load: password logins (each writes a session and audit lines) and wrong ones
    // (throttle rows), from several browsers at once, until the backup is done.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let app = Arc::new(app);
    let mut flood = Vec::new();
    for worker in 0..4 {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        flood.push(tokio::spawn(async move {
            let password = if worker % 2 == 0 {
                GOOD
            } else {
                "Verkeerd-1234"
            };
            while !stop.load(Ordering::Relaxed) {
                let response = app.login_with(&browser(), "piet", password).await;
                assert!(
                    matches!(
                        response.status(),
                        StatusCode::SEE_OTHER | StatusCode::UNAUTHORIZED
                    ),
                    "{}",
                    response.status()
                );
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    while answered.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let work = tempfile::tempdir().unwrap();
    let backup = work.path().join("backup.db");
    let data_dir = app.settings.data_dir.clone();
    let target = backup.clone();
    let during = answered.load(Ordering::Relaxed);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_poortwachter"))
            .arg("backup")
            .arg(&target)
            .current_dir(target.parent().unwrap())
            .env_remove("RUST_LOG")
            .env("POORTWACHTER_DATA_DIR", &data_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    // The logins go on: none waits behind the backup (a backup quicker than one login under
    // a loaded machine may finish before the next answer, so this waits a moment for it).
    let mut after = answered.load(Ordering::Relaxed);
    for _ in 0..500 {
        if after > during {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        after = answered.load(Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    for task in flood {
        task.await.unwrap();
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("2 users, integrity check ok"), "{stdout}");
    assert!(
        stdout.contains("totp.key"),
        "names the key to keep: {stdout}"
    );
    assert!(after > during, "logins went on while the backup ran");

    // A second backup to the same file is refused: a backup never overwrites.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_poortwachter"))
        .arg("backup")
        .arg(&backup)
        .current_dir(work.path())
        .env("POORTWACHTER_DATA_DIR", &app.settings.data_dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Restore without the key: refused with what to do, and no new (wrong) key written.
    let keyless = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, keyless.path().join("poortwachter.db")).unwrap();
    let mut settings = test_settings(&keyless);
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let refused = poortwachter::App::build(settings)
        .await
        .err()
        .expect("refused without the key");
    let message = format!("{refused:#}");
    assert!(
        message.contains("no key file") && message.contains("nothing was written"),
        "{message}"
    );
    assert!(!keyless.path().join("totp.key").exists(), "no new key made");

    // Restore: the copy as the database of a new data folder, with the key kept beside it.
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, restored_dir.path().join("poortwachter.db")).unwrap();
    std::fs::copy(
        app.settings.data_dir.join("totp.key"),
        restored_dir.path().join("totp.key"),
    )
    .unwrap();
    let restored_path = restored_dir.path().to_owned();
    let restored = spawn_app_with(|s| s.data_dir = restored_path).await;
    let key = app.keys.lock().unwrap()["jan"].clone();
    restored.keys.lock().unwrap().insert("jan".into(), key);
    // A later period than the code the original server last accepted.
    restored.clock.set(app.clock.now() + 60);
    assert_eq!(restored.full_login_with(&browser(), "jan", GOOD).await, "/");
    assert_eq!(
        location(&restored.login_with(&browser(), "piet", GOOD).await),
        "/2fa"
    );
}
