//! The full run's table, a row per measure and a column per database size.

use crate::{Report, Run, load};

pub fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

pub fn print_table(report: &Report) {
    println!(
        "\nPoortwachter benchmark, {} — {} cores, Argon2id {}, {} hashing workers, queue {}\n",
        report.date, report.cores, report.argon2, report.hash_workers, report.hash_queue
    );
    let header: Vec<String> = report
        .runs
        .iter()
        .map(|r| format!("{} users", r.users))
        .collect();
    println!("| measure | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(report.runs.len()));
    let row = |name: &str, value: &dyn Fn(&Run) -> String| {
        let cells: Vec<String> = report.runs.iter().map(value).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    let p = |x: &load::Percentiles| format!("{:.2} / {:.2}", x.p50_ms, x.p99_ms);
    row("one Argon2id hash, alone (ms)", &|r| {
        format!("{:.1}", r.hash_ms)
    });
    row("hashes/s with all cores hashing at once (measured)", &|r| {
        format!("{:.1}", r.parallel_hashes_per_s)
    });
    row("password logins at saturation (/s)", &|r| {
        format!("{:.1}", r.saturation.per_second)
    });
    row("… ratio to the all-core hashing rate", &|r| {
        format!("{:.1} %", 100.0 * r.ratio_to_parallel)
    });
    row("logins at saturation, metrics off / on (/s)", &|r| {
        format!("{:.1} / {:.1}", r.metrics.off_per_s, r.metrics.on_per_s)
    });
    row("… cost of metrics (median of 4 pairs; range)", &|r| {
        format!(
            "{:.1} % ({:.1} … {:.1} %)",
            100.0 * r.metrics.median_cost,
            100.0 * r.metrics.pair_costs[0],
            100.0 * r.metrics.pair_costs[3]
        )
    });
    row("load driver's own CPU during saturation (cores)", &|r| {
        format!("{:.2}", r.driver_cpu_share_of_a_core)
    });
    row("login page p50 / p99 idle (ms)", &|r| p(&r.idle.login_page));
    row("login page p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.login_page)
    });
    row("TOTP check p50 / p99 idle (ms)", &|r| p(&r.idle.totp_check));
    row("TOTP check p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.totp_check)
    });
    row("health p50 / p99 idle (ms)", &|r| p(&r.idle.health));
    row("health p50 / p99 under saturation (ms)", &|r| {
        p(&r.under_saturation.health)
    });
    row("past saturation: offered (/s)", &|r| {
        format!("{:.1}", r.past_saturation_offered_per_s)
    });
    row("past saturation: answered 503", &|r| {
        format!("{:.1} %", 100.0 * r.share_503)
    });
    row("past saturation: accepted p50 / p99 (ms)", &|r| {
        p(&r.past_saturation.accepted_latency)
    });
    row("full journeys (/s)", &|r| {
        format!("{:.2}", r.journeys_per_s)
    });
    row("OIDC code exchanges at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.code_exchanges_per_s)
    });
    row("OIDC refresh-token requests at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.refresh_per_s)
    });
    row("OIDC refresh p50 / p99 at saturation (ms)", &|r| {
        p(&r.oidc.refresh_latency)
    });
    row("OIDC userinfo at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.userinfo_per_s)
    });
    row("OIDC userinfo p50 / p99 at saturation (ms)", &|r| {
        p(&r.oidc.userinfo_latency)
    });
    row("OIDC client credentials at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.client_credentials_per_s)
    });
    row("OIDC JWKS at saturation (/s)", &|r| {
        format!("{:.0}", r.oidc.jwks_per_s)
    });
    row("OIDC code exchange p50 / p99 idle (ms)", &|r| {
        p(&r.oidc.exchange_idle)
    });
    row(
        "OIDC code exchange p50 / p99 under login saturation (ms)",
        &|r| p(&r.oidc.exchange_under_flood),
    );
    row("resident memory idle / peak (MiB)", &|r| {
        format!("{:.1} / {:.1}", r.rss_idle_mib, r.rss_peak_mib)
    });
    row("start to first answer (ms)", &|r| {
        format!("{:.0}", r.start_to_first_answer_ms)
    });
}
