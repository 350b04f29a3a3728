//! ServiceNow build tags and release families (docs/reference/servicenow-platform.md §1): parse `glide.war`, `glide.buildtag.last`,
//! `stats.do` and `xmlstats.do` values into a family and patch, and order families.

/// Release families in order; Kingston (index 10) is the connector's minimum.
pub const FAMILIES: [&str; 28] = [
    "aspen",
    "berlin",
    "calgary",
    "dublin",
    "eureka",
    "fuji",
    "geneva",
    "helsinki",
    "istanbul",
    "jakarta",
    "kingston",
    "london",
    "madrid",
    "newyork",
    "orlando",
    "paris",
    "quebec",
    "rome",
    "sandiego",
    "tokyo",
    "utah",
    "vancouver",
    "washingtondc",
    "xanadu",
    "yokohama",
    "zurich",
    "australia",
    "brazil",
];

/// GA code date of the newest known family (Brazil), as (year, month, day).
const NEWEST_KNOWN_GA: (u32, u32, u32) = (2026, 8, 25);

/// Where a family falls relative to the known list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    /// Position in [`FAMILIES`].
    Known(usize),
    /// Unknown name whose GA date is after the newest known family's: newer than all of them.
    Newer,
    /// Unknown name without evidence that it is newer.
    Unknown,
}

/// A parsed build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Lower-case family token, e.g. `washingtondc`.
    pub family: String,
    /// GA code date of the family, `MM-DD-YYYY`, when the tag carried one.
    pub ga_date: Option<String>,
    /// Patch part, e.g. `patch7b-hotfix1`.
    pub patch: Option<String>,
    /// The raw value it was parsed from.
    pub raw: String,
}

impl Build {
    /// Where this family ranks.
    pub fn rank(&self) -> Rank {
        if let Some(index) = FAMILIES.iter().position(|f| *f == self.family) {
            return Rank::Known(index);
        }
        match self.ga_date.as_deref().and_then(parse_date) {
            Some(date) if date > NEWEST_KNOWN_GA => Rank::Newer,
            _ => Rank::Unknown,
        }
    }

    /// Display name: `Washingtondc` → as ServiceNow's `glide.buildname` spells it.
    pub fn family_display(&self) -> String {
        let mut chars = self.family.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }
}

/// The index of Kingston in [`FAMILIES`].
pub fn kingston() -> usize {
    FAMILIES.iter().position(|f| *f == "kingston").unwrap_or(10)
}

/// Normalises a family name: lower case, no spaces (`San Diego` → `sandiego`).
pub fn normalise_family(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Parses a build tag in any of its forms: `glide-<family>-<date>__patch…`, the `glide.war` zip name, a
/// MID buildstamp (`<family>-<date>__patch…`).
pub fn parse_tag(raw: &str) -> Option<Build> {
    let trimmed = raw.trim();
    let value = trimmed.strip_suffix(".zip").unwrap_or(trimmed);
    let value = value.strip_prefix("glide-").unwrap_or(value);
    let (head, rest) = value.split_once("__")?;
    let (family, ga_date) = head.split_once('-')?;
    if family.is_empty() || !family.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    parse_date(ga_date)?;
    let patch = rest.strip_prefix("patch").map(|p| {
        // `patch7b-hotfix1-05-18-2026_…`: keep up to the patch date.
        let end = p.find('_').unwrap_or(p.len());
        let before_dates = strip_trailing_date(&p[..end]);
        format!("patch{before_dates}")
    });
    Some(Build {
        family: family.to_ascii_lowercase(),
        ga_date: Some(ga_date.to_string()),
        patch,
        raw: raw.trim().to_string(),
    })
}

/// A `glide.buildname` / "Build name:" value: a single capitalised token.
pub fn parse_build_name(raw: &str) -> Option<Build> {
    let family = normalise_family(raw);
    if family.is_empty() || !family.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(Build {
        family,
        ga_date: None,
        patch: None,
        raw: raw.trim().to_string(),
    })
}

fn strip_trailing_date(text: &str) -> &str {
    // Patch parts end with `-MM-DD-YYYY`; drop it.
    if text.len() > 11 {
        let (head, tail) = text.split_at(text.len() - 11);
        if tail.starts_with('-') && parse_date(&tail[1..]).is_some() {
            return head;
        }
    }
    text
}

/// `MM-DD-YYYY` → (year, month, day).
fn parse_date(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('-');
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let year_part = parts.next()?;
    if parts.next().is_some() || year_part.len() != 4 {
        return None;
    }
    let year: u32 = year_part.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

/// Lines `Build name:` and `Build tag:` of `/stats.do`.
pub fn from_stats_page(body: &str) -> Option<Build> {
    let text = strip_tags(body);
    let field = |label: &str| {
        text.lines()
            .filter_map(|line| line.trim().strip_prefix(label))
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
    };
    field("Build tag:")
        .and_then(|t| parse_tag(&t))
        .or_else(|| field("MID buildstamp:").and_then(|t| parse_tag(&t)))
        .or_else(|| field("Build name:").and_then(|n| parse_build_name(&n)))
}

/// Elements `glide.build.tag` and `glide.build.name` of `/xmlstats.do`.
pub fn from_xmlstats(body: &str) -> Option<Build> {
    let element = |name: &str| {
        let mut reader = quick_xml::Reader::from_str(body);
        let mut inside = false;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(e)) => {
                    inside = e.name().as_ref() == name.as_bytes();
                }
                Ok(quick_xml::events::Event::Text(t)) if inside => {
                    return t.decode().ok().map(|s| s.trim().to_string());
                }
                Ok(quick_xml::events::Event::End(_)) => inside = false,
                Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
                _ => {}
            }
        }
    };
    element("glide.build.tag")
        .and_then(|t| parse_tag(&t))
        .or_else(|| element("glide.build.name").and_then(|n| parse_build_name(&n)))
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push('\n');
            }
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_tag_shapes() {
        let b = parse_tag("glide-zurich-07-01-2025__patch7b-hotfix1-05-18-2026").expect("tag");
        assert_eq!(b.family, "zurich");
        assert_eq!(b.patch.as_deref(), Some("patch7b-hotfix1"));
        let war = parse_tag("glide-jakarta-05-03-2017__patch9-05-02-2018_05-10-2018_1459.zip")
            .expect("war");
        assert_eq!(war.family, "jakarta");
        assert_eq!(war.patch.as_deref(), Some("patch9"));
        assert_eq!(war.rank(), Rank::Known(kingston() - 1));
        let stamp =
            parse_tag("london-06-27-2018__patch3-10-24-2018_11-11-2018_0542").expect("stamp");
        assert_eq!(stamp.family, "london");
        assert!(parse_tag("not a tag").is_none());
        assert!(parse_tag("glide-x-99-99-2026__patch0-01-01-2026").is_none());
    }

    #[test]
    fn unknown_family_after_brazil_is_newer() {
        let next = parse_tag("glide-canberra-02-10-2027__patch0-03-01-2027").expect("tag");
        assert_eq!(next.rank(), Rank::Newer);
        let odd = parse_tag("glide-oddname-01-01-2020__patch0-01-01-2020").expect("tag");
        assert_eq!(odd.rank(), Rank::Unknown);
    }

    #[test]
    fn reads_stats_and_xmlstats() {
        let stats = "<html><body>Build name: Newyork<br/>Build date: 06-05-2020_2026<br/>Build tag: glide-newyork-06-26-2019__patch9-05-27-2020<br/></body></html>";
        assert_eq!(
            from_stats_page(stats).map(|b| b.family),
            Some("newyork".into())
        );
        let xml = "<xmlstats><glide.build.name>Washingtondc</glide.build.name><glide.build.tag>glide-washingtondc-12-20-2023__patch8-09-19-2024</glide.build.tag></xmlstats>";
        assert_eq!(
            from_xmlstats(xml).map(|b| b.family),
            Some("washingtondc".into())
        );
        assert_eq!(from_xmlstats("<broken").map(|b| b.family), None);
        assert_eq!(
            parse_build_name("San Diego").map(|b| b.family),
            Some("sandiego".into())
        );
    }
}
