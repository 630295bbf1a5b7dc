//! Outgoing HTTPS (back-channel logout) uses rustls with ring, the provider lettre's SMTP
//! already brings; it is installed once per process, before any HTTP client is built.

pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
