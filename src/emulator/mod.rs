//! A local ServiceNow instance (axum) serving fixtures/instances. (Being built on the `emulator` branch;
//! this placeholder only carries the interface.)

use std::net::SocketAddr;

use secrecy::SecretString;

/// How to start the emulator.
#[derive(Clone, Default)]
pub struct EmulatorOptions {
    pub scenario: String,
    pub latency: std::time::Duration,
    pub secrets: SecretOverrides,
}

/// Secrets that replace the fixtures' own.
#[derive(Clone, Default)]
pub struct SecretOverrides {
    pub admin_password: Option<SecretString>,
    pub integration_password: Option<SecretString>,
    pub client_secret: Option<SecretString>,
}

/// Credentials a client should use for a scenario.
pub struct DemoCredentials {
    pub user: String,
    pub password: SecretString,
    pub integration_user: String,
    pub integration_password: SecretString,
    pub oauth_entity: String,
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Emulator errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EmulatorError(String);

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
}

impl Emulator {
    pub async fn start(_options: EmulatorOptions) -> Result<Emulator, EmulatorError> {
        Err(EmulatorError("the emulator is not built yet".into()))
    }
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }
    pub fn ca_pem(&self) -> Option<String> {
        None
    }
    pub fn credentials(&self) -> DemoCredentials {
        unreachable_credentials()
    }
    pub fn stop(self) {}
}

fn unreachable_credentials() -> DemoCredentials {
    let empty = || SecretString::from(String::new());
    DemoCredentials {
        user: String::new(),
        password: empty(),
        integration_user: String::new(),
        integration_password: empty(),
        oauth_entity: String::new(),
        client_id: String::new(),
        client_secret: empty(),
    }
}

/// `snowdoctor emulate`.
pub async fn serve_cli(_args: &crate::cli::EmulateArgs) -> Result<(), EmulatorError> {
    Err(EmulatorError("the emulator is not built yet".into()))
}
