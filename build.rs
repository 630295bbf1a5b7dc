//! The PostgreSQL half of the integration tests runs only where a test database is named
//! (`POORTWACHTER_TEST_POSTGRES_URL`); elsewhere its tests are reported as *ignored*, not
//! as passed. libtest decides "ignored" at compile time, so the variable becomes a cfg here.

fn main() {
    println!("cargo::rerun-if-env-changed=POORTWACHTER_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(test_postgres)");
    if std::env::var("POORTWACHTER_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=test_postgres");
    }
}
