//! The rules for where a login goes once its second step is passed: on to the application,
//! to the herstelcodes that are not saved yet, or to adding a passkey the organization requires.
//! Plain functions, no I/O: the steps in `second_step` and the passkey pages read what the rules
//! need from the store and ask here.

use crate::domain::account::LoginStage;
use crate::domain::passkey::SecondSteps;

/// Where a login goes once the second step is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterStep {
    /// The organization requires a passkey the user does not have yet: adding one first.
    AddPasskey,
    /// The herstelcodes not yet confirmed as saved: the set-up just ended, or the user left
    /// that page before without VERDER.
    SaveRecoveryCodes,
    /// A herstelcode was used: the page that says how many are left.
    RecoveryCodeUsed,
    /// The login is complete: back to the application, or to the account page.
    Continue,
}

/// How a second step was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassedWith {
    App {
        finished_setup: bool,
    },
    RecoveryCode,
    /// A passkey: as the second step, as the whole login, or added where one was required.
    Passkey,
}

/// The rule "which stage follows the second step": complete, unless the organization requires a
/// passkey the user lacks — then only the page that adds one is open. `codes_unsaved`: the
/// user has a set of herstelcodes not yet confirmed as saved (see [`after_login`]).
pub fn after_step(
    steps: &SecondSteps,
    with: PassedWith,
    codes_unsaved: bool,
) -> (LoginStage, AfterStep) {
    if steps.must_add_passkey {
        return (LoginStage::PasskeyRequired, AfterStep::AddPasskey);
    }
    (LoginStage::Complete, after_login(with, codes_unsaved))
}

/// The rule "where a complete login goes": the herstelcodes page while the set the user got
/// at the end of the set-up is not confirmed as saved — a user who left that page without
/// VERDER is asked again at every login until they confirm — else on (to the application).
pub fn after_login(with: PassedWith, codes_unsaved: bool) -> AfterStep {
    match with {
        // That page also shows an unsaved set.
        PassedWith::RecoveryCode => AfterStep::RecoveryCodeUsed,
        PassedWith::App {
            finished_setup: true,
        } => AfterStep::SaveRecoveryCodes,
        _ if codes_unsaved => AfterStep::SaveRecoveryCodes,
        _ => AfterStep::Continue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: SecondSteps = SecondSteps {
        app: true,
        passkey: false,
        must_add_passkey: false,
    };
    const MUST_ADD: SecondSteps = SecondSteps {
        app: true,
        passkey: false,
        must_add_passkey: true,
    };

    #[test]
    fn the_apps_code_completes_the_login() {
        let with = PassedWith::App {
            finished_setup: false,
        };
        assert_eq!(
            after_step(&OPEN, with, false),
            (LoginStage::Complete, AfterStep::Continue)
        );
        assert_eq!(after_login(PassedWith::Passkey, false), AfterStep::Continue);
    }

    #[test]
    fn the_first_code_ends_the_set_up_on_the_herstelcodes() {
        let with = PassedWith::App {
            finished_setup: true,
        };
        for unsaved in [false, true] {
            assert_eq!(
                after_step(&OPEN, with, unsaved),
                (LoginStage::Complete, AfterStep::SaveRecoveryCodes)
            );
        }
    }

    #[test]
    fn every_login_asks_again_for_herstelcodes_not_confirmed_as_saved() {
        let later = PassedWith::App {
            finished_setup: false,
        };
        assert_eq!(
            after_step(&OPEN, later, true),
            (LoginStage::Complete, AfterStep::SaveRecoveryCodes)
        );
        assert_eq!(
            after_login(PassedWith::Passkey, true),
            AfterStep::SaveRecoveryCodes
        );
    }

    #[test]
    fn a_herstelcode_completes_the_login_and_says_how_many_are_left() {
        for unsaved in [false, true] {
            assert_eq!(
                after_step(&OPEN, PassedWith::RecoveryCode, unsaved),
                (LoginStage::Complete, AfterStep::RecoveryCodeUsed)
            );
        }
    }

    #[test]
    fn where_a_passkey_is_required_no_code_completes_the_login() {
        for with in [
            PassedWith::App {
                finished_setup: false,
            },
            PassedWith::App {
                finished_setup: true,
            },
            PassedWith::RecoveryCode,
        ] {
            for unsaved in [false, true] {
                assert_eq!(
                    after_step(&MUST_ADD, with, unsaved),
                    (LoginStage::PasskeyRequired, AfterStep::AddPasskey)
                );
            }
        }
    }
}
