//! How a request authenticates, and the registration of every credential, in each form it travels
//! in, with the run's secret registry before it can be echoed back.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use crate::secrets::SecretRegistry;

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Basic {
        user: String,
        password: SecretString,
    },
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Basic { user, .. } => write!(f, "Auth::Basic({user}, [REDACTED])"),
            Auth::Bearer(_) => f.write_str("Auth::Bearer([REDACTED])"),
        }
    }
}

impl Auth {
    /// Basic auth for `user`, with the password and its wire form (`base64(user:password)`) registered
    /// as secrets at once: a server may echo the credential back (in a body, a header, a redirect's
    /// Location) before or without our ever sending it, and either form must be redacted wherever it shows.
    pub fn basic(user: &str, password: SecretString, secrets: &SecretRegistry) -> Auth {
        let auth = Auth::Basic {
            user: user.to_string(),
            password,
        };
        register_credential(secrets, &auth);
        auth
    }
}

/// Registers a credential in every form it travels in (see [`Auth::basic`]).
pub(super) fn register_credential(secrets: &SecretRegistry, auth: &Auth) {
    match auth {
        Auth::None => {}
        Auth::Basic { user, password } => {
            secrets.register(password);
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.expose_secret()));
            secrets.register_as(
                "the Basic credential (base64 of user:password)",
                &SecretString::from(token),
            );
        }
        Auth::Bearer(token) => secrets.register(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_registers_its_wire_form() {
        let secrets = SecretRegistry::new();
        let _auth = Auth::basic(
            "admin",
            SecretString::from("canary-pw-123".to_string()),
            &secrets,
        );
        let wire = base64::engine::general_purpose::STANDARD.encode("admin:canary-pw-123");
        let echoed = format!("Authorization: Basic {wire}; password canary-pw-123");
        assert_eq!(
            secrets.redact(&echoed),
            "Authorization: Basic [REDACTED]; password [REDACTED]"
        );
    }

    #[test]
    fn a_short_password_is_never_shown_and_its_wire_form_is_still_tracked() {
        let secrets = SecretRegistry::new();
        let auth = Auth::basic("admin", SecretString::from("pw1".to_string()), &secrets);
        assert_eq!(format!("{auth:?}"), "Auth::Basic(admin, [REDACTED])");
        let wire = base64::engine::general_purpose::STANDARD.encode("admin:pw1");
        assert_eq!(secrets.redact(&format!("Basic {wire}")), "Basic [REDACTED]");
    }
}
