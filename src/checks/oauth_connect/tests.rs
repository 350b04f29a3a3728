//! `oauth-connect` evaluated from hand-built facts: pass, missing inputs, and the cause ranking.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde_json::json;

use super::*;
use crate::connector::grant::{
    CC_ENABLED as PROP_CLIENT_CREDENTIALS, OAUTH_ACTIVE as PROP_OAUTH_ACTIVE,
    ROPC_DISABLED as PROP_ROPC_DISABLED,
};
use crate::model::Step;
use crate::runner::facts::{Fact, FactValue, Identity};
use crate::servicenow::RawResponse;
use crate::servicenow::Row;
use crate::servicenow::oauth::{ActingUser, IssuedToken, MissingInput};
use crate::servicenow::table::TableRows;

const CLIENT_ID: &str = "8f2e4a6c1b3d4e5f9a0b2c4d6e8f1a3b";

fn ctx(grant: Grant) -> Context {
    crate::checks::test_support::context_with(|settings| {
        settings.profile.integration_user = Some("m365.integration".into());
        settings.client_id = Some(CLIENT_ID.into());
        settings.grant = grant;
        settings.has_client_secret = true;
        settings.has_integration_password = true;
    })
}

fn connect(grant: Grant, failure: Option<ConnectFailure>) -> ConnectOutcome {
    let token = failure.is_none().then(|| IssuedToken {
        access_token: SecretString::from("access-token-value".to_string()),
        refresh_token: Some(SecretString::from("refresh-token-value".to_string())),
        scope: "useraccount".into(),
        token_type: "Bearer".into(),
        expires_in: Some(1799),
    });
    ConnectOutcome {
        grant,
        client_id: Some(CLIENT_ID.into()),
        client_id_source: "--client-id".into(),
        expected_user: Some("m365.integration".into()),
        missing: Vec::new(),
        withheld: None,
        steps: vec![Step {
            name: "token request".into(),
            status: if failure.is_none() {
                Status::Pass
            } else {
                Status::Fail
            },
            detail: String::new(),
            duration_ms: 12,
        }],
        acting_as: token.as_ref().map(|_| ActingUser {
            user_name: "m365.integration".into(),
            sys_id: "5b7c".into(),
        }),
        token,
        failure,
        application_user: None,
    }
}

fn refused() -> Option<ConnectFailure> {
    Some(ConnectFailure::TokenRefused {
        status: 401,
        error: "server_error".into(),
        error_description: "access_denied".into(),
        logged_in: Some("false".into()),
    })
}

fn rows(values: Vec<serde_json::Value>) -> Fact {
    Ok(FactValue::Rows(TableRows {
        rows: values.into_iter().map(Row::from_value).collect(),
        total: None,
    }))
}

/// Facts as an admin sees a healthy instance, with `tweak` applied to the user and entity rows.
fn facts(
    connect: ConnectOutcome,
    user: serde_json::Value,
    entity: serde_json::Value,
    properties: &[(&str, &str)],
    roles: &[&str],
) -> Facts {
    let mut pairs: Vec<(FactKey, Fact)> = vec![
        (FactKey::Connect, Ok(FactValue::Connect(Arc::new(connect)))),
        (
            FactKey::WhoAmI,
            Ok(FactValue::Identity(Identity {
                user_name: "admin".into(),
                sys_id: "6816".into(),
                roles: Some(roles.iter().map(|r| r.to_string()).collect()),
            })),
        ),
        (
            FactKey::AuthorizeProbe,
            Ok(FactValue::Response(RawResponse {
                url: String::new(),
                status: 200,
                content_type: "text/html".into(),
                headers: HeaderMap::new(),
                body: "<html><title>Log in</title></html>".into(),
                location: None,
            })),
        ),
        (
            FactKey::Table(user_query("m365.integration")),
            rows(if user.is_null() { vec![] } else { vec![user] }),
        ),
        (
            FactKey::Table(entities_query()),
            rows(if entity.is_null() {
                vec![]
            } else {
                vec![entity]
            }),
        ),
    ];
    let property_rows = |names: &[&str]| {
        properties
            .iter()
            .filter(|(n, _)| names.contains(n))
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect::<Vec<_>>()
    };
    pairs.push((
        FactKey::Table(properties_query()),
        rows(property_rows(&[
            PROP_ROPC_DISABLED,
            PROP_CLIENT_CREDENTIALS,
        ])),
    ));
    pairs.push((
        FactKey::Table(oauth_active_query()),
        rows(property_rows(&[PROP_OAUTH_ACTIVE])),
    ));
    Facts::from_pairs(pairs)
}

fn good_user() -> serde_json::Value {
    json!({"sys_id": "5b7c", "user_name": "m365.integration", "active": "true", "locked_out": "false",
           "web_service_access_only": "false", "password_needs_reset": "false"})
}

fn good_entity() -> serde_json::Value {
    json!({"sys_id": "e1", "name": "Microsoft 365 Security Center Connector", "client_id": CLIENT_ID,
           "active": "true", "type": {"value": "client", "display_value": "OAuth Client"}, "user": ""})
}

fn keys(outcome_facts: &Facts, grant: Grant) -> Vec<(&'static str, Likelihood)> {
    let connect = outcome_facts.connect().expect("connect fact");
    rank_causes(&ctx(grant), outcome_facts, connect)
        .into_iter()
        .map(|c| (c.key, c.likelihood))
        .collect()
}

#[test]
fn a_working_connect_passes_with_its_steps_and_consent_readiness() {
    let f = facts(
        connect(Grant::Password, None),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    assert_eq!(out.status, Status::Pass, "{}", out.summary);
    assert_eq!(out.steps.len(), 1);
    let evidence = format!("{:?}", out.evidence);
    assert!(evidence.contains("login page is reachable"), "{evidence}");
    assert!(
        !evidence.contains("access-token-value"),
        "no token in evidence"
    );
}

#[test]
fn missing_inputs_are_inconclusive_and_name_the_variables() {
    let mut c = connect(Grant::Password, None);
    c.token = None;
    c.missing = vec![
        MissingInput {
            what: "the OAuth client secret".into(),
            how: "set SNOWDOCTOR_CLIENT_SECRET".into(),
        },
        MissingInput {
            what: "the integration user's password".into(),
            how: "set SNOWDOCTOR_INTEGRATION_PASSWORD".into(),
        },
    ];
    let f = facts(c, good_user(), good_entity(), &[], &["admin"]);
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    assert_eq!(out.status, Status::Inconclusive);
    let fix = out.rendered_fix("oauth-connect");
    assert!(
        fix.contains("SNOWDOCTOR_CLIENT_SECRET") && fix.contains("SNOWDOCTOR_INTEGRATION_PASSWORD")
    );
}

#[test]
fn an_unexplained_refusal_blames_the_client_secret_first() {
    let f = facts(
        connect(Grant::Password, refused()),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    assert_eq!(
        keys(&f, Grant::Password),
        [
            ("wrong-client-secret", Likelihood::High),
            ("wrong-user-password", Likelihood::Medium)
        ]
    );
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    assert_eq!(out.status, Status::Fail);
    assert!(out.summary.contains("client secret"), "{}", out.summary);
    assert!(
        out.rendered_fix("oauth-connect")
            .contains("SNOWDOCTOR_CLIENT_SECRET")
    );
}

#[test]
fn configuration_findings_outrank_the_secret() {
    let mut user = good_user();
    user["locked_out"] = json!("true");
    user["web_service_access_only"] = json!("true");
    let mut entity = good_entity();
    entity["active"] = json!("false");
    let f = facts(
        connect(Grant::Password, refused()),
        user,
        entity,
        &[(PROP_ROPC_DISABLED, "true")],
        &["admin"],
    );
    let ranked = keys(&f, Grant::Password);
    let high: Vec<&str> = ranked
        .iter()
        .filter(|(_, l)| *l == Likelihood::High)
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(
        high,
        [
            "entity-inactive",
            "user-locked",
            "user-web-service-only",
            "ropc-disabled"
        ]
    );
    assert!(ranked.contains(&("wrong-client-secret", Likelihood::Low)));
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    let fix = out.rendered_fix("oauth-connect");
    assert!(
        fix.contains("Active") && fix.contains("Unlock") && fix.contains("--grant refresh-token"),
        "{fix}"
    );
}

#[test]
fn client_credentials_needs_the_property_and_an_application_user() {
    let f = facts(
        connect(Grant::ClientCredentials, refused()),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    let ranked = keys(&f, Grant::ClientCredentials);
    assert!(
        ranked.contains(&("cc-disabled", Likelihood::High)),
        "{ranked:?}"
    );
    assert!(
        ranked.contains(&("entity-no-user", Likelihood::High)),
        "{ranked:?}"
    );
    assert!(!ranked.iter().any(|(k, _)| *k == "wrong-user-password"));
}

#[test]
fn a_non_admin_view_does_not_claim_missing_rows() {
    let f = facts(
        connect(Grant::Password, refused()),
        serde_json::Value::Null,
        serde_json::Value::Null,
        &[],
        &["itil"],
    );
    let ranked = keys(&f, Grant::Password);
    assert!(
        !ranked
            .iter()
            .any(|(k, _)| *k == "entity-missing" || *k == "user-missing")
    );
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    assert!(format!("{:?}", out.evidence).contains("lacks admin"));
    // The admin view of the same emptiness is a finding.
    let f = facts(
        connect(Grant::Password, refused()),
        serde_json::Value::Null,
        serde_json::Value::Null,
        &[],
        &["admin"],
    );
    let ranked = keys(&f, Grant::Password);
    assert_eq!(ranked[0], ("entity-missing", Likelihood::High));
    assert!(ranked.contains(&("user-missing", Likelihood::High)));
}

#[test]
fn an_unexplained_refresh_failure_blames_the_refresh_token() {
    let f = facts(
        connect(Grant::RefreshToken, refused()),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    let ranked = keys(&f, Grant::RefreshToken);
    assert_eq!(ranked[0], ("refresh-token-invalid", Likelihood::High));
}

#[test]
fn a_token_acting_as_someone_else_fails_with_the_not_you_fix() {
    let failure = Some(ConnectFailure::WrongUser {
        expected: "m365.integration".into(),
        actual: "jane.admin".into(),
    });
    let f = facts(
        connect(Grant::RefreshToken, failure),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    let out = OauthConnect.evaluate(&ctx(Grant::RefreshToken), &f);
    assert_eq!(out.status, Status::Fail);
    assert!(out.summary.contains("jane.admin"));
    assert!(out.rendered_fix("oauth-connect").contains("Not You"));
}

#[test]
fn a_consent_redirect_to_another_host_is_reported_as_sso() {
    let mut f = facts(
        connect(Grant::Password, None),
        good_user(),
        good_entity(),
        &[],
        &["admin"],
    );
    f.insert(
        FactKey::AuthorizeProbe,
        Arc::new(Ok(FactValue::Response(RawResponse {
            url: String::new(),
            status: 302,
            content_type: String::new(),
            headers: HeaderMap::new(),
            body: String::new(),
            location: Some("https://login.microsoftonline.com/tenant/saml2?SAMLRequest=x".into()),
        }))),
    );
    let out = OauthConnect.evaluate(&ctx(Grant::Password), &f);
    let evidence = format!("{:?}", out.evidence);
    assert!(
        evidence.contains("login.microsoftonline.com") && evidence.contains("single sign-on"),
        "{evidence}"
    );
}

/// A token issued with `expires_in` 0 and refused when used is `token-expired`. `oauth-entity`'s
/// lifespan finding explains it only when that check judged the entity the connect used: with
/// `--client-id` naming another entity than the one it picks by name, the connect stays a root cause.
#[test]
fn an_expired_token_is_explained_only_by_the_entity_it_came_from() {
    let expired = || {
        let mut outcome = connect(
            Grant::Password,
            Some(ConnectFailure::UseFailed(ClientError::Unauthorized {
                message: "User Not Authenticated".into(),
            })),
        );
        outcome.token = Some(IssuedToken {
            access_token: SecretString::from("access-token-value".to_string()),
            refresh_token: None,
            scope: "useraccount".into(),
            token_type: "Bearer".into(),
            expires_in: Some(0),
        });
        outcome
    };
    let mut entity = good_entity();
    entity["access_token_lifespan"] = json!("0");
    let same = facts(expired(), good_user(), entity.clone(), &[], &["admin"]);
    let outcome = OauthConnect.evaluate(&ctx(Grant::Password), &same);
    assert_eq!(outcome.status, Status::Fail);
    assert!(
        outcome.summary.contains("had expired"),
        "{}",
        outcome.summary
    );
    assert_eq!(outcome.explained_by, ["oauth-entity/access-token-lifespan"]);

    // the connect's entity (by --client-id) is not the one oauth-entity picks by name
    entity["name"] = json!("Another client");
    let mut named = good_entity();
    named["client_id"] = json!("another-client-id");
    named["sys_id"] = json!("e2");
    let other = Facts::from_pairs([
        (
            FactKey::Connect,
            Ok(FactValue::Connect(Arc::new(expired()))),
        ),
        (FactKey::Table(entities_query()), rows(vec![entity, named])),
    ]);
    let outcome = OauthConnect.evaluate(&ctx(Grant::Password), &other);
    assert_eq!(outcome.status, Status::Fail);
    // the lifespan read is the connect's own entity's
    assert!(
        outcome
            .evidence
            .iter()
            .any(|e| e.label == "oauth_entity.access_token_lifespan"
                && e.value.contains("Another client")),
        "{:?}",
        outcome.evidence
    );
    assert!(
        outcome.explained_by.is_empty(),
        "{:?}",
        outcome.explained_by
    );
}

/// A client-credentials token is for the entity's application user, while `integration-user` judges
/// the named user: a refusal blamed on the application user is explained by that check's finding
/// only when the two are the same user.
#[test]
fn a_user_cause_is_explained_only_by_a_finding_about_the_token_user() {
    let locked = |sys_id: &str, name: &str| {
        json!({"sys_id": sys_id, "user_name": name, "active": "true", "locked_out": "true",
               "web_service_access_only": "false", "password_needs_reset": "false"})
    };
    let properties = [(PROP_CLIENT_CREDENTIALS, "true")];
    let mut entity = good_entity();
    entity["user"] = json!("5b7c");
    let named = locked("5b7c", "m365.integration");
    // the connect's outcome when the token is for `token_user` and `failure` happened
    let evaluate = |token_user: serde_json::Value, failure: Option<ConnectFailure>| {
        let mut outcome = connect(Grant::ClientCredentials, failure);
        outcome.application_user = Some(Row::from_value(token_user));
        let f = facts(
            outcome,
            named.clone(),
            entity.clone(),
            &properties,
            &["admin"],
        );
        OauthConnect.evaluate(&ctx(Grant::ClientCredentials), &f)
    };
    let explained = |token_user: serde_json::Value| {
        let outcome = evaluate(token_user, refused());
        assert_eq!(outcome.status, Status::Fail, "{}", outcome.summary);
        assert!(outcome.summary.contains("locked"), "{}", outcome.summary);
        outcome.explained_by
    };
    assert_eq!(
        explained(named.clone()),
        ["integration-user/locked-out"],
        "the named user is the token's user"
    );
    assert!(
        explained(locked("9a9a", "svc.other")).is_empty(),
        "another user's lockout explains nothing about the named one"
    );

    // a token that works despite the lockout contradicts the check only when it judged that user
    let contradiction = |token_user: serde_json::Value| {
        let outcome = evaluate(token_user, None);
        assert_eq!(outcome.status, Status::Pass, "{}", outcome.summary);
        outcome
            .evidence
            .into_iter()
            .find(|e| e.label == "contradiction")
            .map(|e| e.value)
            .unwrap_or_default()
    };
    let same = contradiction(named.clone());
    assert!(same.starts_with("integration-user reported that"), "{same}");
    let other = contradiction(locked("9a9a", "svc.other"));
    assert!(
        other.starts_with("the configuration reported that"),
        "{other}"
    );
}

/// Every configuration cause is explained by one finding of the check that reports it, a finding
/// that check really has; the causes no check sees explain nothing.
#[test]
fn each_cause_is_explained_by_a_finding_of_its_reporting_check() {
    let catalogue = crate::catalogue::Catalogue::load(None).expect("embedded catalogue loads");
    for cause in causes::CAUSES {
        match (
            causes::reported_by(cause.name),
            causes::explained_by(cause.name),
        ) {
            (Some(check), Some(code)) => {
                let (prefix, name) = code.split_once('/').expect("check/name");
                assert_eq!(prefix, check, "{code}");
                // a declarative table probe reports `rows` and `value`
                let declarative = [
                    crate::checks::declarative::ROWS,
                    crate::checks::declarative::VALUE,
                ];
                let known = match crate::checks::builtin(check) {
                    Some(builtin) => builtin.codes().iter().any(|c| c.name == name),
                    None => {
                        catalogue
                            .get(check)
                            .is_some_and(|m| matches!(m.probe, crate::catalogue::Probe::Table(_)))
                            && declarative.iter().any(|c| c.name == name)
                    }
                };
                assert!(
                    known,
                    "{} is explained by {code}, which {check} never reports",
                    cause.name
                );
            }
            (None, None) => {}
            other => panic!("{}: {other:?}", cause.name),
        }
    }
}
