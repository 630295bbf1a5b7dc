//! Webhooks as the Standard Webhooks specification has them (standardwebhooks.com): which
//! audit events become which webhook event, the signature over `id.timestamp.body`, the
//! `whsec_` secrets, the retry schedule, and which target addresses may be called.
//!
//! The signature is three lines of HMAC-SHA256 (RustCrypto's `hmac`); a crate for it would
//! bring its own HTTP types. The address rules are hand-written because the standard
//! library's `IpAddr::is_global` is not stable yet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use url::Url;

use crate::audit::{AuditEvent, Outcome};

/// What a subscriber hears of. The names are the API's (stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    UserInvited,
    InvitationDelivered,
    InvitationFailing,
    UserActivated,
    TwoStepEnabled,
    TwoStepReset,
    RecoveryCodesLow,
    UserLocked,
    UserUnlocked,
    PasswordReset,
    UserDisabled,
    UserEnabled,
    /// A completed login; only sent where a subscription names it.
    UserLogin,
    ConsentGiven,
    ConsentWithdrawn,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::UserInvited,
        EventKind::InvitationDelivered,
        EventKind::InvitationFailing,
        EventKind::UserActivated,
        EventKind::TwoStepEnabled,
        EventKind::TwoStepReset,
        EventKind::RecoveryCodesLow,
        EventKind::UserLocked,
        EventKind::UserUnlocked,
        EventKind::PasswordReset,
        EventKind::UserDisabled,
        EventKind::UserEnabled,
        EventKind::UserLogin,
        EventKind::ConsentGiven,
        EventKind::ConsentWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UserInvited => "user.invited",
            EventKind::InvitationDelivered => "invitation.delivered",
            EventKind::InvitationFailing => "invitation.failing",
            EventKind::UserActivated => "user.activated",
            EventKind::TwoStepEnabled => "two_step.enabled",
            EventKind::TwoStepReset => "two_step.reset",
            EventKind::RecoveryCodesLow => "recovery_codes.low",
            EventKind::UserLocked => "user.locked",
            EventKind::UserUnlocked => "user.unlocked",
            EventKind::PasswordReset => "password.reset",
            EventKind::UserDisabled => "user.disabled",
            EventKind::UserEnabled => "user.enabled",
            EventKind::UserLogin => "user.login",
            EventKind::ConsentGiven => "consent.given",
            EventKind::ConsentWithdrawn => "consent.withdrawn",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kind an audit record is (if it is one a subscriber hears of). A herstelcode used
    /// is `RecoveryCodesLow` only when `codes_left` is few (the caller counts).
    pub fn of(
        event: AuditEvent,
        outcome: Outcome,
        detail: Option<&str>,
        codes_left: Option<u32>,
    ) -> Option<EventKind> {
        use AuditEvent as A;
        let success = outcome == Outcome::Success;
        Some(match event {
            A::InvitationSent if success => EventKind::UserInvited,
            A::InvitationDelivered if success => EventKind::InvitationDelivered,
            A::InvitationDelivered => EventKind::InvitationFailing,
            A::InvitationUsed if success => EventKind::UserActivated,
            A::TwoStepEnabled if success => EventKind::TwoStepEnabled,
            A::TwoStepReset if success => EventKind::TwoStepReset,
            A::RecoveryCodeUsed
                if success
                    && codes_left.is_some_and(|n| n <= crate::readiness::FEW_RECOVERY_CODES) =>
            {
                EventKind::RecoveryCodesLow
            }
            A::AccountLocked if success => EventKind::UserLocked,
            A::AccountUnlocked if success => EventKind::UserUnlocked,
            A::PasswordSet if success && detail == Some("reset") => EventKind::PasswordReset,
            A::AccountDisabled if success => EventKind::UserDisabled,
            A::AccountEnabled if success => EventKind::UserEnabled,
            A::LoginCode | A::LoginPasskey if success => EventKind::UserLogin,
            A::ConsentGiven if success => EventKind::ConsentGiven,
            A::ConsentWithdrawn if success => EventKind::ConsentWithdrawn,
            _ => return None,
        })
    }

    /// Whether an audit event may ever become a webhook event (the sealer looks no further
    /// at the others).
    pub fn may_come_from(event: AuditEvent) -> bool {
        use AuditEvent as A;
        matches!(
            event,
            A::InvitationSent
                | A::InvitationDelivered
                | A::InvitationUsed
                | A::TwoStepEnabled
                | A::TwoStepReset
                | A::RecoveryCodeUsed
                | A::AccountLocked
                | A::AccountUnlocked
                | A::PasswordSet
                | A::AccountDisabled
                | A::AccountEnabled
                | A::LoginCode
                | A::LoginPasskey
                | A::ConsentGiven
                | A::ConsentWithdrawn
        )
    }
}

/// Which events a subscription receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    /// Every event but `user.login` (which is many, and asked for by name).
    AllButLogins,
    Only(Vec<EventKind>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown event {0:?}; known: {list}", list = EventKind::ALL.map(EventKind::as_str).join(", "))]
    Unknown(String),
}

impl EventFilter {
    /// `*` (or nothing) for every event but logins, else names separated by commas.
    pub fn parse(text: &str) -> Result<EventFilter, FilterError> {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Ok(EventFilter::AllButLogins);
        }
        let mut kinds = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let kind = EventKind::parse(name).ok_or_else(|| FilterError::Unknown(name.into()))?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(EventFilter::Only(kinds))
    }

    pub fn matches(&self, kind: EventKind) -> bool {
        match self {
            EventFilter::AllButLogins => kind != EventKind::UserLogin,
            EventFilter::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// As stored and shown: `*` or the names.
    pub fn to_text(&self) -> String {
        match self {
            EventFilter::AllButLogins => "*".into(),
            EventFilter::Only(kinds) => kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// A signing secret: random bytes, written `whsec_` and their base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

const SECRET_PREFIX: &str = "whsec_";

impl Secret {
    /// 32 random bytes (the specification asks for 24 to 64).
    pub fn generate(rng: &mut impl RngCore) -> Secret {
        let mut bytes = vec![0u8; 32];
        rng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    pub fn parse(text: &str) -> Option<Secret> {
        Secret::from_bytes(STANDARD.decode(text.strip_prefix(SECRET_PREFIX)?).ok()?)
    }

    /// The secret as opened from its sealed form.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Secret> {
        (24..=64).contains(&bytes.len()).then_some(Secret(bytes))
    }

    /// The bytes to seal.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_…`: shown once to whoever made it, and sealed in the database.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: one signature per valid secret (two while a rotation
/// overlaps), separated by spaces, so a receiver with either secret accepts it.
pub fn signature_header(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What is kept of a receiver's answer with a status: `HTTP 204`. Anything else kept (a
/// timeout, a refused connection, a status with an answer cut off) is a failed attempt.
pub fn status_answer(status: u16) -> String {
    format!("HTTP {status}")
}

/// Whether a kept answer accepted the delivery (a 2xx status, answered in full).
pub fn accepted(answer: &str) -> bool {
    answer
        .strip_prefix("HTTP ")
        .and_then(|status| status.parse::<u16>().ok())
        .is_some_and(|status| (200..300).contains(&status))
}

/// How long to wait after the `attempts`-th failed attempt; `None`: give up. The schedule is
/// the specification's example, and reaches past 24 hours (about 27.6 hours in all).
pub fn retry_after(attempts: i64) -> Option<i64> {
    const SCHEDULE: [i64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
    usize::try_from(attempts - 1)
        .ok()
        .and_then(|i| SCHEDULE.get(i).copied())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the URL must start with https:// (http:// only to this machine, in development)")]
    Scheme,
    #[error("the URL may not hold a user name or password")]
    Credentials,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is a private, loopback or link-local address; webhooks go to public addresses")]
    Private(IpAddr),
}

/// Whether `url` may be a webhook target. `development`: `http://` to loopback and private
/// addresses are allowed (a receiver on the developer's machine). The names a host resolves
/// to are checked again when it is called ([`is_forbidden`]).
pub fn check_target(url: &Url, development: bool) -> Result<(), TargetError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = url.host().ok_or(TargetError::NoHost)?;
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    let loopback = literal.is_some_and(|ip| ip.is_loopback())
        || matches!(host, url::Host::Domain(d) if d.eq_ignore_ascii_case("localhost"));
    match url.scheme() {
        "https" => {}
        "http" if development && loopback => {}
        _ => return Err(TargetError::Scheme),
    }
    match literal {
        Some(ip) if !development && is_forbidden(ip) => Err(TargetError::Private(ip)),
        _ => Ok(()),
    }
}

/// Addresses a webhook may not reach in production: this machine, private networks, link-local
/// (cloud metadata at 169.254.169.254), shared, multicast and unspecified addresses.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || v6 == Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0) // NAT64 prefix itself
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_whole_2xx_answer_counts_as_accepted() {
        assert!(super::accepted(&super::status_answer(204)));
        assert!(super::accepted("HTTP 200"));
        assert!(!super::accepted("HTTP 500"));
        assert!(!super::accepted("HTTP 302"));
        assert!(!super::accepted("HTTP 200, answer timed out"));
        assert!(!super::accepted("timed out"));
    }

    use super::*;

    #[test]
    fn the_specifications_example_signature() {
        // From the Standard Webhooks specification's test vectors (and its libraries' tests).
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_and_two_sign_during_a_rotation() {
        let mut rng = rand::rngs::mock::StepRng::new(7, 11);
        let (a, b) = (Secret::generate(&mut rng), Secret::generate(&mut rng));
        assert_eq!(Secret::parse(&a.expose()), Some(a.clone()));
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), None, "too short");
        assert_eq!(Secret::parse("nope"), None);
        let header = signature_header(&[a.clone(), b.clone()], "msg_1", 5, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(
            parts,
            [a.sign("msg_1", 5, b"{}"), b.sign("msg_1", 5, b"{}")]
        );
        assert!(!format!("{a:?}").contains(&a.expose()[6..]));
    }

    #[test]
    fn audit_records_map_to_events() {
        use AuditEvent as A;
        let ok = Outcome::Success;
        assert_eq!(
            EventKind::of(A::InvitationUsed, ok, None, None),
            Some(EventKind::UserActivated)
        );
        assert_eq!(
            EventKind::of(A::InvitationDelivered, Outcome::Failure, Some("550"), None),
            Some(EventKind::InvitationFailing)
        );
        assert_eq!(
            EventKind::of(A::PasswordSet, ok, Some("reset"), None),
            Some(EventKind::PasswordReset)
        );
        assert_eq!(
            EventKind::of(A::PasswordSet, ok, Some("change"), None),
            None
        );
        assert_eq!(
            EventKind::of(A::RecoveryCodeUsed, ok, Some("login"), Some(2)),
            Some(EventKind::RecoveryCodesLow)
        );
        assert_eq!(EventKind::of(A::RecoveryCodeUsed, ok, None, Some(5)), None);
        assert_eq!(
            EventKind::of(A::LoginCode, Outcome::Failure, None, None),
            None
        );
        for event in AuditEvent::ALL {
            for outcome in Outcome::ALL {
                if EventKind::of(event, outcome, Some("reset"), Some(0)).is_some() {
                    assert!(EventKind::may_come_from(event), "{event}");
                }
            }
        }
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn filters() {
        let all = EventFilter::parse("*").unwrap();
        assert!(all.matches(EventKind::UserActivated));
        assert!(!all.matches(EventKind::UserLogin), "logins only by name");
        let some = EventFilter::parse("user.login, user.locked,user.login").unwrap();
        assert_eq!(
            some,
            EventFilter::Only(vec![EventKind::UserLogin, EventKind::UserLocked])
        );
        assert_eq!(some.to_text(), "user.login,user.locked");
        assert_eq!(EventFilter::parse(&some.to_text()).unwrap(), some);
        assert!(EventFilter::parse("user.nope").is_err());
    }

    #[test]
    fn the_retry_schedule_reaches_past_a_day_and_ends() {
        let total: i64 = (1..).map_while(retry_after).sum();
        assert!(total >= 24 * 3600, "{total}");
        assert_eq!(retry_after(1), Some(5));
        assert_eq!(retry_after(8), None);
        assert_eq!(retry_after(0), None);
    }

    #[test]
    fn targets() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            check_target(&url("https://hooks.example.nl/in"), false),
            Ok(())
        );
        assert_eq!(
            check_target(&url("http://hooks.example.nl/in"), false),
            Err(TargetError::Scheme)
        );
        assert_eq!(
            check_target(&url("http://127.0.0.1:9000/in"), false),
            Err(TargetError::Scheme)
        );
        assert_eq!(check_target(&url("http://127.0.0.1:9000/in"), true), Ok(()));
        assert_eq!(check_target(&url("http://localhost:9000/in"), true), Ok(()));
        assert_eq!(
            check_target(&url("http://hooks.example.nl/in"), true),
            Err(TargetError::Scheme),
            "plain http only to this machine"
        );
        assert!(matches!(
            check_target(&url("https://169.254.169.254/latest"), false),
            Err(TargetError::Private(_))
        ));
        assert!(matches!(
            check_target(&url("https://[::ffff:10.0.0.1]/"), false),
            Err(TargetError::Private(_))
        ));
        assert_eq!(
            check_target(&url("https://u:p@hooks.example.nl/"), false),
            Err(TargetError::Credentials)
        );
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2a00:1450:4001::1", "172.32.0.1"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }
}
