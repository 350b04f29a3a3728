//! A Table API request: table, encoded query, fields, display mode. Also the fact key for table reads,
//! so two checks asking the same question share one fetch.

/// A Table API list request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableQuery {
    pub table: String,
    /// Encoded query (`sysparm_query`), e.g. `name=oauth_entity^active=true`.
    pub query: String,
    /// `sysparm_fields`; empty means all fields.
    pub fields: Vec<String>,
    /// Maximum rows to return in total (paging stops there); `None` reads every page.
    pub limit: Option<usize>,
}

impl TableQuery {
    /// All rows of `table` (paged).
    pub fn new(table: impl Into<String>) -> Self {
        TableQuery {
            table: table.into(),
            query: String::new(),
            fields: Vec::new(),
            limit: None,
        }
    }

    /// Sets the encoded query.
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    /// Adds `^`-joined condition `field=value`.
    pub fn eq(mut self, field: &str, value: &str) -> Self {
        let term = format!("{field}={}", escape_value(value));
        self.query = if self.query.is_empty() {
            term
        } else {
            format!("{}^{term}", self.query)
        };
        self
    }

    /// Restricts the returned fields.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Caps the number of rows.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// A short description for evidence and logs: `table?query`.
    pub fn describe(&self) -> String {
        if self.query.is_empty() {
            self.table.clone()
        } else {
            format!("{}?{}", self.table, self.query)
        }
    }
}

/// Encoded-query values cannot contain `^` (the term separator); ServiceNow escapes it as `^^`.
fn escape_value(value: &str) -> String {
    value.replace('^', "^^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_conjunctions_and_escapes_carets() {
        let q = TableQuery::new("sys_user")
            .eq("user_name", "a^b")
            .eq("active", "true");
        assert_eq!(q.query, "user_name=a^^b^active=true");
        assert_eq!(q.describe(), "sys_user?user_name=a^^b^active=true");
    }
}
