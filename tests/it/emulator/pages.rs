//! Instance pages that are not APIs: `stats.do` and the version scenarios, hibernation and interstitials.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{count, env, result};

#[tokio::test]
async fn stats_pages_and_version_scenarios() {
    let e = env("healthy");
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Brazil"));
    assert!(
        r.text
            .contains("Build tag: glide-brazil-08-25-2026__patch1-09-21-2026")
    );
    assert!(r.text.contains("Build date: 10-02-2026_1200"));
    assert!(
        r.text
            .contains("MID buildstamp: brazil-08-25-2026__patch1-09-21-2026_10-02-2026_1200")
    );
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert!(
        r.text
            .contains("<glide.build.name>Brazil</glide.build.name>")
    );
    assert!(r.header("content-type").starts_with("text/xml"));
    // diag_txns_acl gates both pages to admins.
    let prop = &result(
        &e.get("/api/now/table/sys_properties?sysparm_query=name=glide.security.diag_txns_acl")
            .await,
    )[0];
    let path = format!(
        "/api/now/table/sys_properties/{}",
        prop["sys_id"].as_str().unwrap_or("")
    );
    e.call(
        Method::PATCH,
        &path,
        Some(e.admin()),
        Some(json!({"value": "true"})),
    )
    .await;
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (u, p) = e.admin();
    let r = e
        .send(
            e.client
                .get(format!("{}/stats.do", e.base))
                .basic_auth(u, Some(p)),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let e = env("version-stats-only");
    assert_eq!(
        count(
            &e,
            "sys_properties",
            "nameSTARTSWITHglide.build^ORname=glide.war"
        )
        .await,
        0
    );
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Brazil"));
    let e = env("old-release");
    let r = e
        .send(e.client.get(format!("{}/xmlstats.do", e.base)))
        .await;
    assert!(r.text.contains(
        "<glide.build.tag>glide-jakarta-05-03-2017__patch9-05-02-2018</glide.build.tag>"
    ));
    let e = env("version-unknown-family");
    let r = e.send(e.client.get(format!("{}/stats.do", e.base))).await;
    assert!(r.text.contains("Build name: Colombia"));
}

#[tokio::test]
async fn hibernating_and_interstitial_answer_html_everywhere() {
    for (scenario, marker) in [
        ("hibernating", "Instance Hibernating page"),
        ("interstitial", "Sign in to continue"),
    ] {
        let e = env(scenario);
        for path in ["/api/now/table/incident", "/stats.do", "/nothing/here"] {
            let r = e.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{scenario} {path}");
            assert!(r.header("content-type").starts_with("text/html"));
            assert!(r.text.contains(marker));
        }
        let r = e.password_grant().await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(marker));
    }
}
