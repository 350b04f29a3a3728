//! The connector's OAuth entity: which `oauth_entity` row it is (named, in the app's scope, or named
//! like the app) and the client id the connect uses.

use crate::config::Profile;
use crate::servicenow::{Row, TableQuery};

/// Every OAuth entity, without the secret (which is never read).
pub fn entities_query() -> TableQuery {
    TableQuery::new("oauth_entity").fields([
        "sys_id",
        "name",
        "type",
        "client_id",
        "redirect_url",
        "active",
        "access_token_lifespan",
        "refresh_token_lifespan",
        "client_type",
        "user",
        "sys_scope",
        "sys_scope.scope",
    ])
}

/// True for an inbound OAuth client ("OAuth Client"; the stored code is `client`).
pub fn is_inbound_client(row: &Row) -> bool {
    row.is_one_of("type", &["client", "OAuth Client"])
}

/// Which entity was chosen and how.
#[derive(Debug)]
pub enum Selection<'r> {
    Found {
        row: &'r Row,
        how: String,
        /// Other candidates, by name.
        others: Vec<String>,
    },
    NotFound {
        why: String,
    },
}

/// Where the entity's name came from, for the evidence.
fn origin(profile: &Profile) -> &str {
    match profile.oauth_entity_origin.as_str() {
        "" => "the profile",
        origin => origin,
    }
}

/// Picks the profile's entity: by name when given, else an inbound client in the app's scope, else
/// the inbound client whose name shares the most words with the app's name.
pub fn select<'r>(profile: &Profile, rows: &'r [Row]) -> Selection<'r> {
    if let Some(name) = profile.oauth_entity.as_deref().filter(|n| !n.is_empty()) {
        let exact: Vec<&Row> = rows.iter().filter(|r| r.text("name") == name).collect();
        let matches = if exact.is_empty() {
            rows.iter()
                .filter(|r| r.text("name").eq_ignore_ascii_case(name))
                .collect()
        } else {
            exact
        };
        return match matches.split_first() {
            Some((row, rest)) => Selection::Found {
                row,
                how: format!("named {name:?} ({})", origin(profile)),
                others: rest.iter().map(|r| r.text("name").to_string()).collect(),
            },
            None => Selection::NotFound {
                why: format!("no OAuth entity is named {name:?}"),
            },
        };
    }
    let clients: Vec<&Row> = rows.iter().filter(|r| is_inbound_client(r)).collect();
    let scope = profile.app_scope.as_str();
    if !scope.is_empty() {
        let scoped: Vec<&Row> = clients
            .iter()
            .copied()
            .filter(|r| r.text("sys_scope.scope") == scope)
            .collect();
        if let Some((row, rest)) = scoped.split_first() {
            return Selection::Found {
                row,
                how: format!("an OAuth client in the application scope {scope}"),
                others: rest.iter().map(|r| r.text("name").to_string()).collect(),
            };
        }
    }
    let words = hint_words(profile);
    let mut scored: Vec<(usize, &Row)> = clients
        .iter()
        .map(|r| (score(&words, r.text("name")), *r))
        .filter(|(s, _)| *s >= 2)
        .collect();
    scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    match scored.split_first() {
        Some(((_, row), rest)) => Selection::Found {
            row,
            how: format!(
                "found by name: shares words with {:?} (pass --oauth-entity to choose)",
                profile.app_name
            ),
            others: rest.iter().map(|(_, r)| r.text("name").to_string()).collect(),
        },
        None if words.is_empty() => Selection::NotFound {
            why: "no OAuth entity was named (--oauth-entity) and the profile names no application to find it through".into(),
        },
        None => Selection::NotFound {
            why: format!(
                "no OAuth client lies in the scope {scope:?} or has a name like {:?}",
                profile.app_name
            ),
        },
    }
}

/// The client id of the profile's entity, for the authorization probe.
pub fn client_id_for(profile: &Profile, rows: &[Row]) -> Option<String> {
    match select(profile, rows) {
        Selection::Found { row, .. } => Some(row.text("client_id").to_string()),
        Selection::NotFound { .. } => None,
    }
}

/// Distinctive words of the app's name and scope ("microsoft", "365", "ticketing", "connector", …).
fn hint_words(profile: &Profile) -> Vec<String> {
    let mut words: Vec<String> = profile
        .app_name
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() >= 3 && !["app", "the", "for", "and"].contains(&w.as_str()))
        .collect();
    if !profile.app_scope.is_empty() {
        words.push(profile.app_scope.to_lowercase());
    }
    words
}

fn score(words: &[String], name: &str) -> usize {
    let name = name.to_lowercase();
    words.iter().filter(|w| name.contains(w.as_str())).count()
}

/// The entity the connect uses: the one with `client_id` (`--client-id`) when given, else the one
/// [`select`] picks. `Err` says why none was found.
pub fn connector_entity<'r>(
    client_id: Option<&str>,
    profile: &Profile,
    rows: &'r [Row],
) -> Result<&'r Row, String> {
    if let Some(id) = client_id {
        return rows
            .iter()
            .find(|r| r.text("client_id") == id)
            .ok_or_else(|| format!("no OAuth entity has client id {id}"));
    }
    match select(profile, rows) {
        Selection::Found { row, .. } => Ok(row),
        Selection::NotFound { why } => Err(why),
    }
}
