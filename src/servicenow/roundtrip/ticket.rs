//! The seven fields the Microsoft connector sends per ticket, with the round trip's test values.

use chrono::{DateTime, Utc};

/// ServiceNow's date-time format; the Table API stores and returns it in UTC.
pub const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketData {
    pub initiating_user: String,
    pub task_name: String,
    pub task_description: String,
    /// 1 (critical) … 5 (planning).
    pub priority: u8,
    pub due: DateTime<Utc>,
    pub recommendation_source: String,
    pub recommendation_category: String,
}

impl TicketData {
    /// The test ticket at a fixed instant, for unit tests that compare what was sent and stored.
    #[cfg(test)]
    pub(crate) fn fixed() -> TicketData {
        let now = DateTime::from_timestamp(1_760_000_000, 123).unwrap_or_default();
        TicketData::sample(now)
    }

    /// The test ticket: moderate priority, due a week from `now` (whole seconds, UTC).
    pub fn sample(now: DateTime<Utc>) -> TicketData {
        let due = DateTime::from_timestamp(now.timestamp() + 7 * 86_400, 0).unwrap_or(now);
        TicketData {
            initiating_user: "snowdoctor-round-trip".into(),
            task_name: "snowdoctor connectivity test".into(),
            task_description:
                "Test ticket created by snowdoctor to prove the connector's round trip; it is deleted automatically."
                    .into(),
            priority: 3,
            due,
            recommendation_source: "Microsoft recommendation".into(),
            recommendation_category: "Identity".into(),
        }
    }
}
