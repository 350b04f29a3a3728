//! One request to the instance, built rather than passed as positional arguments: the method, the URL,
//! how it authenticates, what it accepts, its body, whether a transient failure may be retried, and
//! whether its answer carries newly minted secrets (the token endpoint).

use reqwest::Method;
use url::Url;

use super::auth::Auth;

/// A request body, sent as is; the transcript keeps a copy redacted by [`super::redact::body`].
pub struct Body {
    pub mime: &'static str,
    pub text: String,
}

/// What [`super::Client::send`] sends.
pub struct Request<'a> {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) auth: &'a Auth,
    pub(super) accept: &'static str,
    pub(super) body: Option<Body>,
    pub(super) idempotent: bool,
    pub(super) mints_tokens: bool,
    /// A Batch API POST: its transcript entry leaves out the items' base64 bodies, which are
    /// recorded, decoded and redacted, as entries of their own.
    pub(super) batch_envelope: bool,
}

impl<'a> Request<'a> {
    fn new(method: Method, url: Url, auth: &'a Auth, idempotent: bool) -> Self {
        Request {
            method,
            url,
            auth,
            accept: "application/json",
            body: None,
            idempotent,
            mints_tokens: false,
            batch_envelope: false,
        }
    }

    /// A GET of JSON, retried on transient failures.
    pub fn get(url: Url, auth: &'a Auth) -> Self {
        Request::new(Method::GET, url, auth, true)
    }

    /// A POST, never retried (a retry could create a duplicate or count towards a lockout).
    pub fn post(url: Url, auth: &'a Auth, body: Body) -> Self {
        Request::new(Method::POST, url, auth, false).body(body)
    }

    /// A PATCH, retried on transient failures (it is idempotent).
    pub fn patch(url: Url, auth: &'a Auth, body: Body) -> Self {
        Request::new(Method::PATCH, url, auth, true).body(body)
    }

    /// A DELETE, retried on transient failures (a second DELETE of a gone record is a 404).
    pub fn delete(url: Url, auth: &'a Auth) -> Self {
        Request::new(Method::DELETE, url, auth, true)
    }

    /// Replaces the `Accept` header (JSON by default).
    pub fn accept(mut self, accept: &'static str) -> Self {
        self.accept = accept;
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks a Batch API POST (see [`super::batch`]).
    pub fn batch_envelope(mut self) -> Self {
        self.batch_envelope = true;
        self
    }

    /// Marks the answer as carrying new secrets (`access_token`, `refresh_token`, `id_token`): they
    /// are registered before the exchange is stored or returned.
    pub fn mints_tokens(mut self) -> Self {
        self.mints_tokens = true;
        self
    }
}
