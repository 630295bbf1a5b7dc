//! Every form body the service parses (log-in, activation, code, buttons), as bytes off the
//! wire, through the same deserializer as the handlers and on into the domain rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    poortwachter::web::fuzzing::parse_forms(body);
});
