//! `--pseudonymize`: replaces what identifies a customer — the instance host, user names, e-mail
//! addresses, sys_ids and IP addresses — with stable stand-ins (`instance-1`, `user-3`,
//! `user-3@example.invalid`, `sysid-7`, `ip-2`), the same stand-in for the same value in every file of a
//! bundle. The mapping back is kept by the caller, outside the bundle.
//!
//! Hosts and user names are known values (the report's instance and account, user names seen in the
//! transcript's JSON bodies and query strings); e-mails, sys_ids and IPs are found by pattern. A user
//! name is replaced wherever it stands as a whole word, which may also hide an ordinary word that
//! happens to equal it: over-hiding is the safe side.

use std::collections::BTreeMap;
use std::net::IpAddr;

use regex::Regex;
use serde::Serialize;

use crate::model::RunReport;
use crate::servicenow::transcript::Exchange;

/// Fields of ServiceNow records that hold a user name.
const USER_FIELDS: [&str; 4] = ["user_name", "sys_created_by", "sys_updated_by", "username"];

/// Consistent replacement of identifying values across several texts.
#[derive(Debug)]
pub struct Pseudonymizer {
    hosts: Vec<String>,
    users: Vec<String>,
    mapping: BTreeMap<String, String>,
    counters: BTreeMap<&'static str, usize>,
    email: Regex,
    sys_id: Regex,
    ipv4: Regex,
    ipv6: Regex,
}

/// The pseudonym → original table written next to the bundle.
#[derive(Debug, Serialize)]
pub struct Mapping<'a> {
    pub note: &'static str,
    pub pseudonyms: &'a BTreeMap<String, String>,
}

impl Pseudonymizer {
    /// Learns the identifying values of a run from its report and transcript.
    pub fn for_run(report: &RunReport, transcript: &[Exchange]) -> Self {
        let mut hosts = Vec::new();
        if let Some(host) = host_of(&report.instance) {
            hosts.push(host);
        }
        let mut users = Vec::new();
        if !report.user.is_empty() {
            users.push(report.user.clone());
        }
        for exchange in transcript {
            collect_query_users(&exchange.url, &mut users);
            for body in [&exchange.request_body, &exchange.response_body]
                .into_iter()
                .flatten()
            {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
                    collect_json_users(&value, &mut users);
                }
            }
        }
        users.retain(|u| u.len() >= 3 && !is_platform_value(u));
        users.sort_by_key(|u| std::cmp::Reverse(u.len()));
        users.dedup();
        Pseudonymizer::new(hosts, users)
    }

    /// A pseudonymizer for these hosts and user names (longest first wins on overlap).
    pub fn new(hosts: Vec<String>, users: Vec<String>) -> Self {
        // Literal patterns, exercised by the unit tests: they cannot fail on outside data.
        let re = |pattern: &str| Regex::new(pattern).expect("a valid literal pattern");
        Pseudonymizer {
            hosts,
            users,
            mapping: BTreeMap::new(),
            counters: BTreeMap::new(),
            email: re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),
            sys_id: re(r"\b[0-9a-f]{32}\b"),
            ipv4: re(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
            ipv6: re(r"(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b"),
        }
    }

    /// The pseudonym → original table so far.
    pub fn mapping(&self) -> Mapping<'_> {
        Mapping {
            note: "Keep this file local: it turns the pseudonymised bundle back into names.",
            pseudonyms: &self.mapping,
        }
    }

    /// Replaces every identifying value in `text`.
    pub fn apply(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for host in self.hosts.clone() {
            if out.contains(&host) {
                let alias = self.alias("instance", &host);
                out = out.replace(&host, &alias);
            }
        }
        out = self.replace_emails(&out);
        for user in self.users.clone() {
            let Ok(word) = Regex::new(&format!(
                r"(^|[^\w.@-]|%[0-9A-Fa-f]{{2}})({})($|[^\w@-])",
                regex::escape(&user)
            )) else {
                continue;
            };
            if word.is_match(&out) {
                let alias = self.alias("user", &user);
                // Twice: adjacent matches share the separator between them.
                for _ in 0..2 {
                    out = word
                        .replace_all(&out, |c: &regex::Captures| {
                            format!("{}{alias}{}", &c[1], &c[3])
                        })
                        .into_owned();
                }
            }
        }
        out = self.replace_pattern(&out, PatternKind::SysId);
        out = self.replace_pattern(&out, PatternKind::Ipv4);
        self.replace_pattern(&out, PatternKind::Ipv6)
    }

    fn alias(&mut self, kind: &'static str, original: &str) -> String {
        if let Some((alias, _)) = self.mapping.iter().find(|(alias, value)| {
            value.as_str() == original
                && alias.starts_with(&format!("{kind}-"))
                && !alias.contains('@')
        }) {
            return alias.clone();
        }
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        let alias = format!("{kind}-{n}");
        self.mapping.insert(alias.clone(), original.to_string());
        alias
    }

    fn replace_emails(&mut self, text: &str) -> String {
        let found: Vec<String> = self
            .email
            .find_iter(text)
            .map(|m| m.as_str().to_string())
            .collect();
        let mut out = text.to_string();
        for email in found {
            let local = email.split('@').next().unwrap_or_default().to_string();
            let user = self.alias("user", &local);
            let alias = format!("{user}@example.invalid");
            self.mapping.insert(alias.clone(), email.clone());
            out = out.replace(&email, &alias);
        }
        out
    }

    fn replace_pattern(&mut self, text: &str, kind: PatternKind) -> String {
        let (regex, prefix) = match kind {
            PatternKind::SysId => (&self.sys_id, "sysid"),
            PatternKind::Ipv4 | PatternKind::Ipv6 => (
                if kind == PatternKind::Ipv4 {
                    &self.ipv4
                } else {
                    &self.ipv6
                },
                "ip",
            ),
        };
        let found: Vec<String> = regex
            .find_iter(text)
            .map(|m| m.as_str().to_string())
            .filter(|s| kind == PatternKind::SysId || s.parse::<IpAddr>().is_ok_and(identifies))
            .collect();
        let mut out = text.to_string();
        for value in found {
            let alias = self.alias(prefix, &value);
            out = out.replace(&value, &alias);
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    SysId,
    Ipv4,
    Ipv6,
}

/// Loopback, unspecified and broadcast addresses say nothing about a customer and keep rules readable.
/// Values in user-name fields that name no person: `javascript:` expressions the instance evaluates
/// (`javascript:gs.getUserName()`), the platform's own accounts (`system`, `guest`) and encoded-query
/// operators. Hiding them would make a transcript show a query for a user who does not exist.
fn is_platform_value(value: &str) -> bool {
    const PLATFORM_WORDS: [&str; 8] = [
        "system",
        "guest",
        "NULL",
        "ISEMPTY",
        "ISNOTEMPTY",
        "ANYTHING",
        "EMPTYSTRING",
        "DYNAMIC",
    ];
    let lower = value.trim().to_ascii_lowercase();
    lower.starts_with("javascript:")
        || lower.starts_with("gs.")
        || PLATFORM_WORDS
            .iter()
            .any(|word| word.eq_ignore_ascii_case(value.trim()))
}

fn identifies(ip: IpAddr) -> bool {
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    !(ip.is_loopback() || ip.is_unspecified() || broadcast)
}

fn host_of(instance: &str) -> Option<String> {
    url::Url::parse(instance)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| !h.is_empty())
}

fn collect_query_users(url: &str, users: &mut Vec<String>) {
    if let Ok(parsed) = url::Url::parse(url) {
        for (name, value) in parsed.query_pairs() {
            if USER_FIELDS.contains(&name.as_ref()) {
                users.push(value.to_string());
            }
            // Encoded queries: `sysparm_query=user_name=svc_x^active=true`.
            for clause in value.split('^') {
                // `^OR` and `^NQ` start a clause too: `…^ORuser_name=svc_y`.
                let clause = clause
                    .strip_prefix("OR")
                    .or_else(|| clause.strip_prefix("NQ"))
                    .unwrap_or(clause);
                if let Some((field, v)) = clause.split_once('=')
                    && USER_FIELDS.contains(&field)
                {
                    users.push(v.to_string());
                }
            }
        }
    }
}

fn collect_json_users(value: &serde_json::Value, users: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match v {
                    serde_json::Value::String(s) if USER_FIELDS.contains(&key.as_str()) => {
                        users.push(s.clone());
                    }
                    _ => collect_json_users(v, users),
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                collect_json_users(item, users);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_pseudonym_across_texts() {
        let mut p = Pseudonymizer::new(
            vec!["acme.service-now.com".into()],
            vec!["svc_m365_ticket".into()],
        );
        let a = p.apply("https://acme.service-now.com/x?u=svc_m365_ticket from 10.1.2.3");
        let b = p.apply("svc_m365_ticket <svc_m365_ticket@acme-corp.com> at 10.1.2.3, 6816f79cc0a8016401c5a33be04be441");
        assert_eq!(a, "https://instance-1/x?u=user-1 from ip-1");
        assert_eq!(b, "user-1 <user-1@example.invalid> at ip-1, sysid-1");
        assert_eq!(
            p.mapping.get("user-1@example.invalid").map(String::as_str),
            Some("svc_m365_ticket@acme-corp.com")
        );
    }

    #[test]
    fn leaves_javascript_expressions_and_platform_accounts_alone() {
        let mut users = Vec::new();
        collect_query_users(
            "https://acme.service-now.com/api/now/table/sys_user?sysparm_query=user_name=javascript:gs.getUserName()^ORuser_name=svc_ticket",
            &mut users,
        );
        users.push("system".into());
        users.retain(|u| !is_platform_value(u));
        assert_eq!(users, ["svc_ticket"]);
        let mut p = Pseudonymizer::new(vec![], users);
        let text =
            p.apply("user_name=javascript:gs.getUserName() sys_created_by=system svc_ticket");
        assert_eq!(
            text,
            "user_name=javascript:gs.getUserName() sys_created_by=system user-1"
        );
    }

    #[test]
    fn leaves_versions_and_times_alone() {
        let mut p = Pseudonymizer::new(vec![], vec![]);
        let text = "glide-xanadu-07-02-2024__patch2 at 09:12:31, 1.2.1";
        assert_eq!(p.apply(text), text);
        assert_eq!(p.apply("fe80::1 and 2001:db8::7"), "ip-1 and ip-2");
        assert_eq!(
            p.apply("Deny 0.0.0.0 - 255.255.255.255 to 127.0.0.1"),
            "Deny 0.0.0.0 - 255.255.255.255 to 127.0.0.1"
        );
    }
}
