//! E-mail: what each message says ([`compose`]), how it leaves ([`transport`]), and the
//! outbox worker that delivers queued mail with retries ([`outbox`]).

pub mod compose;
pub mod look_ahead;
pub mod outbox;
pub mod qr;
pub mod sender;
pub mod transport;
