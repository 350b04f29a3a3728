//! Reading a service-tag file's JSON. Most of a file (seven bytes in ten of the Public one) is its
//! prefix lists, so they are found and read first, the text split between two threads, and serde
//! then reads the rest of the text, each list cut to `[]`, into borrowed structs. The cut is
//! checked: every cut list must come back to serde as the `addressPrefixes` of a tag at exactly
//! the place it was cut from, else the whole text is read again plainly (serde over all of it,
//! each list read as its tag is), which also decides every error.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use compact_str::{CompactString, ToCompactString};
use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::prefix::{parse_plain_prefix, parse_prefix, quoted_plain_prefix, trim};
use super::service_tags::{HostBits, ServiceTag, ServiceTagError};

/// Files from this size on read their prefix lists on a second thread while serde reads the rest;
/// Microsoft's weekly files are 1 to 4 MB, the embedded sample a few KB.
const SECOND_THREAD_FROM_BYTES: usize = 256 * 1024;
/// The key the lists are found by, quotes included.
const LIST_KEY: &str = "\"addressPrefixes\"";

/// What a file holds once read: its own fields and its tags, prefixes checked.
pub(super) struct TagFileParts {
    pub cloud: String,
    pub change_number: String,
    pub tags: Vec<ServiceTag>,
    pub host_bits: Vec<HostBits>,
}

/// Reads a file's text (BOM already removed).
pub(super) fn read(text: &str) -> Result<TagFileParts, ServiceTagError> {
    let second_thread = text.len() >= SECOND_THREAD_FROM_BYTES;
    read_ahead(text, second_thread).map_or_else(|| read_plainly(text), Ok)
}

/// Serde over the whole text, each tag's list read from it: the path that decides errors.
fn read_plainly(text: &str) -> Result<TagFileParts, ServiceTagError> {
    let (own, shells) = read_shells(text)?;
    let mut converter = Converter::default();
    for shell in shells {
        converter.take(shell, None);
    }
    converter.finish(own)
}

/// A plain list's prefixes, and each prefix given with host bits set with the prefix used.
type PlainList<'a> = (Vec<IpNet>, Vec<(&'a str, IpNet)>);

/// The lists found first and cut from the text; then serde over the cut text while the lists are
/// read (on a second thread, which this one joins once serde is done). `None` when there is
/// nothing to cut, or anything failed or did not check out: the caller reads plainly.
fn read_ahead(text: &str, second_thread: bool) -> Option<TagFileParts> {
    // whichever thread comes first finds the spans, so starting the second one costs no wait
    let found = OnceLock::new();
    let find = || found.get_or_init(|| Spans::of(text));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let worker = second_thread
            .then(|| {
                std::thread::Builder::new()
                    .name("service-tags".into())
                    .spawn_scoped(scope, || read_lists(text, find(), &next))
                    .ok()
            })
            .flatten();
        let spans = find();
        let (cut, places) = cut_lists(text, &spans.spans);
        let shells = (!spans.spans.is_empty())
            .then(|| read_shells(&cut).ok())
            .flatten();
        if shells.is_none() {
            next.store(spans.len(), Ordering::Relaxed); // nothing more is needed
        }
        let mut lists = read_lists(text, spans, &next);
        if let Some(worker) = worker {
            lists.extend(
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        let (own, shells) = shells?;
        assemble(own, shells, &cut, places, lists)
    })
}

/// The tags read from the cut text given their lists read ahead; `None` unless every list was
/// plain and came back to serde as a tag's list, where it was cut from.
fn assemble<'a>(
    own: TagFileParts,
    shells: Vec<Shell<'_>>,
    cut: &str,
    places: Vec<usize>,
    lists: Vec<(usize, Option<PlainList<'a>>)>,
) -> Option<TagFileParts> {
    if lists.len() != places.len() {
        return None; // one was not plain, and the others stopped
    }
    let mut read: Vec<Option<PlainList<'a>>> =
        std::iter::repeat_with(|| None).take(places.len()).collect();
    for (index, list) in lists {
        // a span that is not a plain list may not have been a list at all: the cut is void
        read[index] = Some(list?);
    }
    let mut ahead = places.into_iter().zip(read).peekable();
    let base = cut.as_ptr() as usize;
    let mut converter = Converter::default();
    for shell in shells {
        let place = shell
            .list
            .map(|list| (list.get().as_ptr() as usize).wrapping_sub(base));
        let list = match (place, ahead.peek()) {
            (Some(place), Some((cut_at, _))) if place == *cut_at => {
                ahead.next().and_then(|(_, list)| list)
            }
            _ => None,
        };
        converter.take(shell, list);
    }
    if ahead.next().is_some() {
        return None;
    }
    converter.finish(own).ok()
}

/// Runs serde over the text: the file's own fields and each tag, its list left as text.
fn read_shells(text: &str) -> Result<(TagFileParts, Vec<Shell<'_>>), ServiceTagError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut shells = Vec::new();
    let own = FileSeed {
        shells: &mut shells,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((own, shells))
}

/// A tag as serde read it: all but its prefixes, and their list's text.
struct Shell<'t> {
    tag: ServiceTag,
    list: Option<&'t RawValue>,
}

impl<'t> From<RawTag<'t>> for Shell<'t> {
    fn from(raw: RawTag<'t>) -> Shell<'t> {
        let props = raw.properties;
        Shell {
            tag: ServiceTag {
                name: raw.name,
                region: props.region.unwrap_or_default(),
                system_service: props.system_service.unwrap_or_default(),
                change_number: props.change_number.map(|c| c.0).unwrap_or_default(),
                prefixes: Vec::new(),
            },
            list: props.address_prefixes,
        }
    }
}

/// Where the text of each list after an `"addressPrefixes":` is: from its `[` to the first `]`. A
/// key may be anywhere (inside a string, under another field) and a span may not be a list: each
/// must then be a plain list (checked as it is read), serde must meet it as a tag's list, or the
/// cut is void.
fn list_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let key = memchr::memmem::Finder::new(LIST_KEY);
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = key.find(&bytes[at..]) {
        at += found + LIST_KEY.len();
        let Some(open) = list_opens(bytes, at) else {
            continue;
        };
        let Some(close) = memchr::memchr(b']', &bytes[open..]) else {
            break;
        };
        at = open + close + 1;
        spans.push(open..at);
    }
    spans
}

/// Where the `[` is after a key that ends at `at`: blanks, `:`, blanks.
fn list_opens(bytes: &[u8], at: usize) -> Option<usize> {
    let colon = Some(after_blanks(bytes, at)).filter(|i| bytes.get(*i) == Some(&b':'))?;
    Some(after_blanks(bytes, colon + 1)).filter(|i| bytes.get(*i) == Some(&b'['))
}

/// The text with each span cut to `[]`, and where each `[]` is in it. Spans are in order and apart.
fn cut_lists(text: &str, spans: &[Range<usize>]) -> (String, Vec<usize>) {
    let listed: usize = spans.iter().map(Range::len).sum();
    let mut cut = String::with_capacity(text.len() - listed + 2 * spans.len());
    let mut places = Vec::with_capacity(spans.len());
    let mut copied = 0;
    for span in spans {
        cut.push_str(&text[copied..span.start]);
        places.push(cut.len());
        cut.push_str("[]");
        copied = span.end;
    }
    cut.push_str(&text[copied..]);
    (cut, places)
}

/// The spans of a text's lists, and the order they are read in: largest first, so that two threads
/// end together (Microsoft's largest list, `AzureCloud`, is a seventh of the prefixes and comes
/// last in the file).
struct Spans {
    spans: Vec<Range<usize>>,
    largest_first: Vec<usize>,
}

impl Spans {
    fn of(text: &str) -> Spans {
        let spans = list_spans(text);
        let mut largest_first: Vec<usize> = (0..spans.len()).collect();
        largest_first.sort_unstable_by_key(|i| std::cmp::Reverse(spans[*i].len()));
        Spans {
            spans,
            largest_first,
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }
}

/// Reads the spans not yet taken, one at a time (another thread may share `next`): each span's
/// index and its plain list, `None` for one that is not plain, after which no more are taken.
fn read_lists<'a>(
    text: &'a str,
    spans: &Spans,
    next: &AtomicUsize,
) -> Vec<(usize, Option<PlainList<'a>>)> {
    let mut lists = Vec::new();
    loop {
        let taken = next.fetch_add(1, Ordering::Relaxed);
        let Some(&index) = spans.largest_first.get(taken) else {
            return lists;
        };
        let list = plain_prefixes(&text[spans.spans[index].clone()]);
        if list.is_none() {
            next.store(spans.len(), Ordering::Relaxed);
        }
        lists.push((index, list));
    }
}

/// Turns read tags into [`ServiceTag`]s, keeping the first invalid prefix and the prefixes
/// published with host bits set.
#[derive(Default)]
struct Converter {
    tags: Vec<ServiceTag>,
    host_bits: Vec<HostBits>,
    bad: Option<ServiceTagError>,
}

impl Converter {
    /// One tag, with its list as read ahead if it was, else from its text.
    fn take(&mut self, shell: Shell<'_>, ahead: Option<PlainList<'_>>) {
        if self.bad.is_some() {
            return;
        }
        let mut tag = shell.tag;
        let list = shell.list.map_or("[]", RawValue::get);
        let Some(prefixes) = self.list(&tag.name, list, ahead) else {
            return;
        };
        tag.prefixes = prefixes;
        self.tags.push(tag);
    }

    /// The prefixes of the tag `name`: as read ahead, else from its list's text, in one pass if it is
    /// plain; `None` after keeping the error.
    fn list(&mut self, name: &str, list: &str, ahead: Option<PlainList<'_>>) -> Option<Vec<IpNet>> {
        let Some((prefixes, host_bits)) = ahead.or_else(|| plain_prefixes(list)) else {
            return self.any_list(name, list);
        };
        self.host_bits
            .extend(host_bits.into_iter().map(|(given, used)| HostBits {
                tag: name.to_string(),
                given: given.to_string(),
                used,
            }));
        Some(prefixes)
    }

    /// The prefixes of any list serde reads as strings; `None` after keeping the error.
    fn any_list(&mut self, name: &str, list: &str) -> Option<Vec<IpNet>> {
        let texts = match array_strings(list) {
            Ok(texts) => texts,
            Err(e) => {
                self.bad = Some(ServiceTagError::BadPrefixList {
                    tag: name.to_string(),
                    reason: e.to_string(),
                });
                return None;
            }
        };
        let mut prefixes: Vec<IpNet> = Vec::with_capacity(texts.len());
        for text in &texts {
            let given = trim(text);
            match parse_prefix(given) {
                Ok((used, host_bits)) => {
                    if host_bits {
                        self.host_bits.push(HostBits {
                            tag: name.to_string(),
                            given: given.to_string(),
                            used,
                        });
                    }
                    prefixes.push(used);
                }
                Err(reason) => {
                    self.bad = Some(ServiceTagError::BadPrefix {
                        tag: name.to_string(),
                        prefix: text.to_string(),
                        reason,
                    });
                    return None;
                }
            }
        }
        Some(prefixes)
    }

    /// The tags added to the file's own fields; the first invalid prefix instead, if any.
    fn finish(self, own: TagFileParts) -> Result<TagFileParts, ServiceTagError> {
        if let Some(bad) = self.bad {
            return Err(bad);
        }
        if self.tags.is_empty() {
            return Err(ServiceTagError::NoTags);
        }
        Ok(TagFileParts {
            tags: self.tags,
            host_bits: self.host_bits,
            ..own
        })
    }
}

/// The prefixes of a list as Microsoft writes it, and those given with host bits set: strings
/// without escapes, each a valid prefix, between `[`, commas and `]`, read in one pass over the
/// text. `None` for anything else, which [`Converter::any_list`] then reads from the start,
/// deciding as it always has (an odd list, or an invalid prefix, is rare and its error must not
/// depend on this path).
fn plain_prefixes(list: &str) -> Option<PlainList<'_>> {
    let bytes = list.as_bytes();
    // a quoted prefix and its comma take 10 bytes of the list at least
    let mut prefixes = Vec::with_capacity(bytes.len() / 10);
    let mut host_bits = Vec::new();
    let mut at = after_blanks(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    at = after_blanks(bytes, at + 1);
    if bytes.get(at) == Some(&b']') {
        return (after_blanks(bytes, at + 1) == bytes.len()).then_some((prefixes, host_bits));
    }
    let mut separator = Separator::default();
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let open = at + 1;
        // a plain prefix is read in place up to its closing quote; anything else is found
        // first, and a string with a raw control character (or a blank) is left to serde
        let (used, masked, close) = match quoted_plain_prefix(bytes, open) {
            Some(read) => read,
            None => {
                let close = string_stop(bytes, open)?;
                if bytes[close] != b'"' {
                    return None;
                }
                let (used, masked) = parse_plain_prefix(trim(&list[open..close]))?;
                (used, masked, close)
            }
        };
        if masked {
            host_bits.push((trim(&list[open..close]), used));
        }
        prefixes.push(used);
        if let Some(next) = separator.after(bytes, close) {
            at = next;
            continue;
        }
        at = after_blanks(bytes, close + 1);
        match bytes.get(at) {
            Some(b',') => {
                at = after_blanks(bytes, at + 1);
                separator = Separator::learn(bytes, close, at);
            }
            Some(b']') => {
                return (after_blanks(bytes, at + 1) == bytes.len())
                    .then_some((prefixes, host_bits));
            }
            _ => return None,
        }
    }
}

/// The bytes between one string of a list and the next, from the closing quote to the opening one
/// (`",` and the next line's indent): the same all through a pretty-printed list, so once read they
/// are matched whole, as one 16-byte number, in place of a scan for blanks and the comma.
#[derive(Default)]
struct Separator {
    /// The low `len` bytes set; none when no separator was learned.
    mask: u128,
    bytes: u128,
    len: usize,
}

impl Separator {
    /// The separator from the quote at `close` to the one at `next`, if there is one there and it
    /// fits in 16 bytes; else none.
    fn learn(text: &[u8], close: usize, next: usize) -> Separator {
        let len = next + 1 - close;
        match sixteen(text, close) {
            Some(word) if len <= 16 && text.get(next) == Some(&b'"') => {
                let mask = u128::MAX >> (8 * (16 - len));
                Separator {
                    mask,
                    bytes: word & mask,
                    len,
                }
            }
            _ => Separator::default(),
        }
    }

    /// Where the next string opens, when the separator follows the quote at `close`.
    fn after(&self, text: &[u8], close: usize) -> Option<usize> {
        let word = sixteen(text, close)?;
        (self.len > 0 && word & self.mask == self.bytes).then_some(close + self.len - 1)
    }
}

/// The 16 bytes from `at`, as one number (the first in its lowest byte).
fn sixteen(text: &[u8], at: usize) -> Option<u128> {
    let chunk = text.get(at..)?.first_chunk::<16>()?;
    Some(u128::from_le_bytes(*chunk))
}

/// Eight bytes read as one number: a one in each byte, and each byte's high bit.
const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Where the first byte below `#` (0x23) from `at` is, eight bytes at a time: a string's closing
/// `"`, or a control character, space or `!` in it, which no plain prefix holds. A `\` is no stop:
/// no prefix holds one either, so a string with an escape fails to parse as a prefix and its list is
/// left to serde.
fn string_stop(bytes: &[u8], mut at: usize) -> Option<usize> {
    while let Some(chunk) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        // a byte below 0x23 borrows, and a byte of 0x80 or more is masked out: the lowest flagged
        // byte is exact (a borrow only flags bytes above a true one)
        let below = word.wrapping_sub(LOW * 0x23) & !word & HIGH;
        if below != 0 {
            return Some(at + (below.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|b| *b < 0x23)
        .map(|i| at + i)
}

/// Where the JSON blanks from `at` end, eight bytes at a time: pretty-printed lists indent with
/// spaces, so a word of spaces is skipped whole, and a word is looked into only at its first
/// other byte.
fn after_blanks(bytes: &[u8], mut at: usize) -> usize {
    const SPACES: u64 = LOW * 0x20;
    while let Some(chunk) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let other = u64::from_le_bytes(*chunk) ^ SPACES;
        if other == 0 {
            at += 8;
            continue;
        }
        let first = at + (other.trailing_zeros() / 8) as usize;
        if !matches!(bytes[first], b'\n' | b'\t' | b'\r') {
            return first;
        }
        at = first + 1;
    }
    at + bytes.get(at..).map_or(0, |rest| {
        rest.iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count()
    })
}

/// `changeNumber`: a number in the download files, a string in the Discovery API. A visitor that takes
/// either, instead of an untagged enum, which buffers every value before trying its variants.
struct Change(CompactString);

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Change;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a change number (number or string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Change, E> {
                Ok(Change(v.to_compact_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Change, E> {
                Ok(Change(v.to_compact_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Change, E> {
                Ok(Change(v.to_compact_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The strings of a JSON array, read by serde, which names what is wrong with anything else. Only
/// lists the one-pass reader declined come here (escapes, non-strings, an invalid prefix), so speed
/// does not matter.
fn array_strings(list: &str) -> Result<Vec<Cow<'_, str>>, serde_json::Error> {
    let texts: Vec<Text<'_>> = serde_json::from_str(list)?;
    Ok(texts.into_iter().map(|t| t.0).collect())
}

/// A string that borrows from the input unless it holds escapes. Serde's own `Cow<str>` impl always
/// copies inside a `Vec`; 93,000 small allocations were a third of the parse time.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR prefix string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// One element of `values`, as read. Its strings are compact: read from the text and kept inline up
/// to 24 bytes, so most tags allocate none (serde never borrows an `Option<Cow<str>>`: each was a
/// `String`).
#[derive(Deserialize)]
struct RawTag<'a> {
    name: CompactString,
    #[serde(borrow)]
    properties: RawProperties<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    #[serde(default)]
    change_number: Option<Change>,
    #[serde(default)]
    region: Option<CompactString>,
    #[serde(default)]
    system_service: Option<CompactString>,
    /// Kept as JSON text: read ahead and cut to `[]`, or read from this text when it was not.
    #[serde(borrow, default)]
    address_prefixes: Option<&'a RawValue>,
}

/// The file's top-level object: its own fields are kept, each element of `values` goes to the
/// shells. Written by hand because a derived struct cannot carry the shells' vector; it
/// behaves as the derived one did (unknown fields ignored, a repeated field an error, `values`
/// required).
struct FileSeed<'s, 'a> {
    shells: &'s mut Vec<Shell<'a>>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for FileSeed<'_, 'a> {
    type Value = TagFileParts;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TagFileParts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for FileSeed<'_, 'a> {
    type Value = TagFileParts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ServiceTags object with \"values\"")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<TagFileParts, M::Error> {
        use serde::de::Error;
        let (mut cloud, mut change_number): (Option<Cow<'de, str>>, Option<Change>) = (None, None);
        let mut values = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "values" if values => return Err(M::Error::duplicate_field("values")),
                "values" => {
                    map.next_value_seed(TagsSeed {
                        shells: &mut *self.shells,
                    })?;
                    values = true;
                }
                "cloud" if cloud.is_some() => return Err(M::Error::duplicate_field("cloud")),
                "cloud" => cloud = map.next_value::<Option<Cow<'de, str>>>()?,
                "changeNumber" if change_number.is_some() => {
                    return Err(M::Error::duplicate_field("changeNumber"));
                }
                "changeNumber" => change_number = map.next_value::<Option<Change>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !values {
            return Err(M::Error::missing_field("values"));
        }
        Ok(TagFileParts {
            cloud: cloud.map(Cow::into_owned).unwrap_or_default(),
            change_number: change_number.map(|c| c.0.into()).unwrap_or_default(),
            tags: Vec::new(),
            host_bits: Vec::new(),
        })
    }
}

/// The `values` array: each tag to the shells.
struct TagsSeed<'s, 'a> {
    shells: &'s mut Vec<Shell<'a>>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for TagsSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TagsSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of service tags")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawTag<'de>>()? {
            self.shells.push(Shell::from(raw));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A JSON array of up to five `element`s, with JSON whitespace anywhere.
    fn array_of(element: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        let blank = prop::sample::select(vec!["", " ", "\n    ", "\t", "\r\n"]);
        (
            prop::collection::vec((element, blank.clone(), blank.clone()), 0..6),
            blank.clone(),
            blank,
        )
            .prop_map(|(elements, head, tail)| {
                let inner: Vec<String> = elements
                    .into_iter()
                    .map(|(e, before, after)| format!("{before}{e}{after}"))
                    .collect();
                format!("{head}[{}]{tail}", inner.join(","))
            })
    }

    /// A JSON array of prefix-like strings (valid, with host bits, invalid, escaped, blank-padded),
    /// sometimes with a number in it.
    fn prefix_lists() -> impl Strategy<Value = String> {
        array_of(prop_oneof![
            4 => (any::<u32>(), 0u8..=32).prop_map(|(a, len)| format!("\"{}/{len}\"", std::net::Ipv4Addr::from(a))),
            2 => (any::<u128>(), 0u8..=128).prop_map(|(a, len)| format!("\"{}/{len}\"", std::net::Ipv6Addr::from(a))),
            1 => Just("\"10.0.0.0\\/8\"".to_string()),
            1 => Just("\" 10.1.0.0/16 \"".to_string()),
            1 => Just("\"10.0.0.256/24\"".to_string()),
            1 => Just("\"010.0.0.0/8\"".to_string()),
            1 => Just("\"\"".to_string()),
            1 => Just("5".to_string()),
        ])
    }

    /// A list read by the one-pass path when it can, else the general one; or the general one only.
    fn converted(list: &str, one_pass: bool) -> String {
        let mut converter = Converter::default();
        let prefixes = if one_pass {
            converter.list("Tag", list, None)
        } else {
            converter.any_list("Tag", list)
        };
        format!(
            "{prefixes:?} {:?} {:?}",
            converter.host_bits,
            converter.bad.map(|e| e.to_string())
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// The one-pass path gives what the general one does, errors and host bits included.
        #[test]
        fn one_pass_lists_agree_with_the_general_path(list in prefix_lists()) {
            prop_assert_eq!(converted(&list, true), converted(&list, false), "{}", list);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Eight bytes at a time, the same answers as one byte at a time.
        #[test]
        fn word_scans_agree_with_byte_scans(
            bytes in prop::collection::vec(prop_oneof![
                4 => Just(b' '), 1 => Just(b'\n'), 1 => Just(b'\t'), 1 => Just(b'\r'),
                1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x20u8..=0xFF, 1 => 0x80u8..=0xFF,
            ], 0..40),
            at in 0usize..45,
        ) {
            let at = at.min(bytes.len());
            let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
            prop_assert_eq!(after_blanks(&bytes, at), at + bytes[at..].iter().take_while(|b| blank(b)).count());
            let stop = bytes[at..].iter().position(|b| *b < 0x23).map(|i| at + i);
            prop_assert_eq!(string_stop(&bytes, at), stop);
        }

        /// [`string_stop`] passes over a `\\`, so no prefix may hold one: a string with an escape
        /// must fail as a prefix, whatever the escape stands for.
        #[test]
        fn no_prefix_holds_a_backslash(
            before in "[0-9a-fA-F.:/]{0,20}",
            escape in prop::sample::select(vec!["\\/", "\\u0031", "\\\\", "\\\"", "\\n", "\\"]),
            after in "[0-9a-fA-F.:/]{0,20}",
        ) {
            let text = format!("{before}{escape}{after}");
            prop_assert!(parse_plain_prefix(&text).is_none(), "{text:?} parsed as a prefix");
        }
    }

    /// Text made of list pieces in any order, valid JSON or not.
    fn list_like_text() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "[",
            "]",
            ",",
            "\"",
            " ",
            "\t",
            "\n",
            "\\",
            "\u{a0}",
            "\u{1}",
            "1.2.3.0/24",
            "\"10.0.0.0/8\"",
            "\"2603:1000::/40\"",
            "\" 10.1.0.0/16 \"",
            "5",
        ]);
        let pieces = prop::collection::vec(piece.clone(), 0..12).prop_map(|pieces| pieces.concat());
        // a list of prefixes with one piece put in somewhere: nearly valid
        let nearly =
            (prefix_lists(), any::<prop::sample::Index>(), piece).prop_map(|(list, at, piece)| {
                let bounds: Vec<usize> = (0..=list.len())
                    .filter(|i| list.is_char_boundary(*i))
                    .collect();
                let at = bounds[at.index(bounds.len())];
                format!("{}{piece}{}", &list[..at], &list[at..])
            });
        prop_oneof![pieces, nearly]
    }

    /// What the one-pass reader takes from `list`, if anything, is a JSON array of exactly those
    /// strings: a list read ahead is never checked by serde.
    fn takes_only_what_serde_reads(list: &str) -> Result<(), TestCaseError> {
        if let Some((prefixes, _)) = plain_prefixes(list) {
            let strings: Vec<String> = serde_json::from_str(list)
                .map_err(|e| TestCaseError::fail(format!("{list:?}: {e}")))?;
            let parsed: Vec<IpNet> = strings
                .iter()
                .map(|s| parse_prefix(trim(s)).map(|(used, _)| used))
                .collect::<Result<_, _>>()
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(prefixes, parsed, "{:?}", list);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

        /// What the one-pass reader takes is a JSON array of exactly those strings: a list read
        /// ahead is never checked by serde.
        #[test]
        fn one_pass_takes_only_json_arrays_of_strings(list in list_like_text()) {
            takes_only_what_serde_reads(&list)?;
        }
    }

    /// Pretty-printed lists of valid prefixes, one separator throughout, then up to two pieces
    /// put in, swapped in or taken out anywhere: the reader learns the separator, then meets it
    /// broken partway (from a helper's red-team pass).
    fn edited_pretty_lists() -> impl Strategy<Value = String> {
        let prefix = prop_oneof![
            3 => (any::<u32>(), 0u8..=32).prop_map(|(a, len)| format!("{}/{len}", std::net::Ipv4Addr::from(a))),
            2 => (any::<u128>(), 0u8..=128).prop_map(|(a, len)| format!("{}/{len}", std::net::Ipv6Addr::from(a))),
        ];
        let separator = prop::sample::select(vec![
            ",\n  ",
            ", ",
            ",",
            ",\r\n\t\t",
            ",\n              ",
            ",\n               ",
            " ,\n",
        ]);
        let piece = prop::sample::select(vec![
            "\\", "\"", "\\\"", " ", "\n", "\t", ",", "]", "!", "#", "\u{a0}", "\u{0}", "\\/", "0",
            "/", ":", "\",\"", "\r\n",
        ]);
        let edit = (any::<prop::sample::Index>(), 0u8..3, piece);
        (
            prop::collection::vec(prefix, 1..30),
            separator,
            prop::collection::vec(edit, 0..3),
        )
            .prop_map(|(prefixes, separator, edits)| {
                let quoted: Vec<String> = prefixes.iter().map(|p| format!("\"{p}\"")).collect();
                let mut list = format!("[\n  {}\n]", quoted.join(separator));
                for (at, kind, piece) in edits {
                    let bounds: Vec<usize> = (0..=list.len())
                        .filter(|i| list.is_char_boundary(*i))
                        .collect();
                    let i = bounds[at.index(bounds.len())];
                    let next = list[i..].chars().next().map_or(0, char::len_utf8);
                    match kind {
                        0 => list.insert_str(i, piece),
                        1 => list.replace_range(i..i + next, piece),
                        _ => list.replace_range(i..i + next, ""),
                    }
                }
                list
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        /// A learned separator, matched or broken, changes nothing: what the one-pass reader
        /// takes is the JSON serde reads, and it reads the list as the general path does.
        #[test]
        fn learned_separators_change_nothing(list in edited_pretty_lists()) {
            takes_only_what_serde_reads(&list)?;
            prop_assert_eq!(converted(&list, true), converted(&list, false), "{:?}", list);
        }
    }

    #[test]
    fn plain_lists_take_one_pass_and_odd_ones_do_not() {
        let (prefixes, host_bits) =
            plain_prefixes("[\n  \"10.0.0.0/8\",\n  \"2603:1000::/40\",\"10.1.2.3/24\"\n]")
                .expect("plain");
        assert_eq!(prefixes.len(), 3);
        assert_eq!(
            host_bits,
            [("10.1.2.3/24", "10.1.2.0/24".parse().expect("net"))]
        );
        assert_eq!(plain_prefixes(" [ ] ").map(|(p, _)| p.len()), Some(0));
        // separators that change along the list: each learned one matched whole, or read again
        let mixed = "[\n  \"1.0.0.0/8\",\n  \"2.0.0.0/8\",\n  \"3.0.0.0/8\" ,\"4.0.0.0/8\",\r\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\"5.0.0.0/8\",\r\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\"6.0.0.0/8\",\n  \"7.0.0.0/8\"\n]";
        let (prefixes, _) = plain_prefixes(mixed).expect("plain");
        let want: Vec<IpNet> = (1..=7)
            .map(|i| format!("{i}.0.0.0/8").parse().expect("net"))
            .collect();
        assert_eq!(prefixes, want);
        for odd in [
            "[\n  \"10.0.0.0/8\",\n  \"10.1.0.0/16\",\n  ]",
            "[\n  \"10.0.0.0/8\",\n  \"10.1.0.0/16\",\n  5]",
            "[\n  \"10.0.0.0/8\",\n  \"10.1.0.0/16\",\n  \"10.2.0.0/16\t\"]",
            r#"["10.0.0.0\/8"]"#,
            r#"["10.0.0.0/8", 5]"#,
            r#"["10.0.0.0/33"]"#,
            r#"["10.0.0.0/8" "10.1.0.0/16"]"#,
            r#"["10.0.0.0/8",, "10.1.0.0/16"]"#,
            r#"["10.0.0.0/8",]"#,
            r#"[,"10.0.0.0/8"]"#,
            "[\"10.0.0.0/8\t\"]",
            "[\u{a0}]",
            "[]]",
            "[5]",
        ] {
            assert!(plain_prefixes(odd).is_none(), "{odd}");
        }
    }

    /// The parts as comparable values: the error's text, or every field.
    fn shown(parts: Result<TagFileParts, ServiceTagError>) -> Result<String, String> {
        parts
            .map(|p| {
                format!(
                    "{} {} {:?} {:?}",
                    p.cloud, p.change_number, p.tags, p.host_bits
                )
            })
            .map_err(|e| e.to_string())
    }

    /// What reading the lists ahead (on a second thread or not) gives, unless it declined.
    fn ahead(text: &str, second_thread: bool) -> Option<Result<String, String>> {
        read_ahead(text, second_thread).map(|parts| shown(Ok(parts)))
    }

    /// The real Public file, and copies with a bad prefix or host bits late in the file, or cut
    /// short: read ahead (on one thread or two) or plainly, the same tags in the same order, the
    /// same error; the valid ones are read ahead, the others are not.
    #[test]
    fn reading_ahead_changes_nothing() {
        let public = String::from_utf8(
            crate::azure::reference_data::bytes(&crate::azure::snapshot::PUBLIC).expect("embedded"),
        )
        .expect("UTF-8");
        let last = public.rfind("\"addressPrefixes\"").expect("prefixes");
        let quote = last + public[last..].find("\"1").expect("an IPv4 prefix") + 1;
        let bad = format!("{}999{}", &public[..quote], &public[quote + 1..]);
        let late = public.find("/24\"").expect("a /24") + public.len() / 2;
        let slash = late + public[late..].find(".0/2").expect("a .0/2x prefix");
        let host_bits = format!("{}.9{}", &public[..slash], &public[slash + 2..]);
        let cut = &public[..public.len() - 1000];
        for text in [public.as_str(), host_bits.as_str()] {
            let plainly = shown(read_plainly(text));
            assert_eq!(ahead(text, false), Some(plainly.clone()));
            assert_eq!(ahead(text, true), Some(plainly.clone()));
            assert_eq!(shown(read(text)), plainly);
        }
        for text in [bad.as_str(), cut] {
            assert_eq!(ahead(text, true), None);
            assert_eq!(shown(read(text)), shown(read_plainly(text)));
        }
        assert!(shown(read(&public)).expect("valid").contains("AzureCloud"));
        assert!(
            shown(read(&bad))
                .expect_err("bad")
                .contains("is not a valid CIDR prefix")
        );
        assert!(
            shown(read(&host_bits))
                .expect("host bits")
                .contains("HostBits")
        );
        assert!(
            shown(read(cut))
                .expect_err("cut")
                .starts_with("not a ServiceTags JSON file")
        );
    }

    /// A file of `tags`, each `(name, extra properties, list)`.
    fn file_of(tags: &[(String, String, String)]) -> String {
        let values: Vec<String> = tags
            .iter()
            .map(|(name, extra, list)| {
                format!(
                    "{{\"name\": {name}, \"properties\": {{{extra}\"addressPrefixes\": {list}}}}}"
                )
            })
            .collect();
        format!(
            "{{\"cloud\": \"Public\", \"values\": [\n{}\n]}}",
            values.join(",\n")
        )
    }

    /// Names, other fields and lists that put the key, brackets and escapes where the cut might be
    /// fooled.
    fn tricky_files() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            r#""Plain""#,
            r#""a \"addressPrefixes\": [\"10.9.0.0/16\"]""#,
            r#""ends with a backslash \\""#,
            r#""]""#,
        ])
        .prop_map(str::to_string);
        let extra = prop::sample::select(vec![
            "",
            r#""region": "x", "#,
            r#""other": {"addressPrefixes": ["10.8.0.0/16"]}, "#,
            r#""addressPrefixes\\": ["10.7.0.0/16"], "#,
            r#""x\"addressPrefixes": ["10.6.0.0/16"], "#,
            r#""addressPrefixes": ["10.5.0.0/16"], "#,
        ])
        .prop_map(str::to_string);
        prop::collection::vec((name, extra, prefix_lists()), 1..6).prop_map(|tags| file_of(&tags))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the file, reading ahead gives what reading plainly does, or declines.
        #[test]
        fn reading_ahead_gives_the_plain_reading_or_declines(text in tricky_files()) {
            let plainly = shown(read_plainly(&text));
            for second_thread in [false, true] {
                if let Some(ahead) = ahead(&text, second_thread) {
                    prop_assert_eq!(&ahead, &plainly, "{}", text);
                }
            }
            prop_assert_eq!(shown(read(&text)), plainly, "{}", text);
        }
    }

    /// A list cut from anywhere but a tag's `addressPrefixes`, or one that is not plain, makes the
    /// reading ahead decline, and the plain reading decides; a tag without a list is read ahead.
    #[test]
    fn the_cut_is_checked() {
        let tag = |name: &str, extra: &str, list: &str| (name.into(), extra.into(), list.into());
        let plain = || tag(r#""T""#, "", r#"["10.0.0.0/8"]"#);
        let elsewhere = file_of(&[
            plain(),
            tag(
                r#""U""#,
                r#""other": {"addressPrefixes": ["10.8.0.0/16"]}, "#,
                r#"["10.1.0.0/16"]"#,
            ),
        ]);
        let escaped = file_of(&[plain(), tag(r#""U""#, "", r#"["10.1.0.0\/16"]"#)]);
        for text in [&elsewhere, &escaped] {
            assert_eq!(ahead(text, true), None, "{text}");
            let read = shown(read(text));
            assert_eq!(read, shown(read_plainly(text)));
            assert!(read.expect("valid").contains("10.1.0.0/16"));
        }
        let without = r#"{"values": [{"name": "Empty", "properties": {}},
            {"name": "T", "properties": {"addressPrefixes": ["10.0.0.0/8"]}}]}"#;
        let read_ahead = ahead(without, true).expect("read ahead");
        assert_eq!(read_ahead, shown(read_plainly(without)));
        assert!(read_ahead.expect("valid").contains("Empty"));
    }

    #[test]
    fn escaped_and_odd_lists_go_through_serde() {
        let texts = array_strings(r#"["10.0.0.0\/8", "1.2.3.0/24"]"#).expect("valid");
        assert_eq!(texts, ["10.0.0.0/8", "1.2.3.0/24"]);
        assert_eq!(
            array_strings("[]").expect("valid"),
            Vec::<Cow<'_, str>>::new()
        );
        let wrong = array_strings(r#"["1.2.3.0/24", 5]"#).expect_err("a number");
        assert!(wrong.to_string().contains("invalid type"), "{wrong}");
    }

    /// Reading ahead, on one thread or two, gives the plain reading or declines, and never an error;
    /// `read` gives the plain reading. Whether reading ahead answered.
    fn agree(text: &str) -> bool {
        let plainly = shown(read_plainly(text));
        let mut answered = false;
        for second_thread in [false, true] {
            if let Some(a) = ahead(text, second_thread) {
                assert_eq!(
                    a, plainly,
                    "read_ahead({second_thread}) differs on {text:?}"
                );
                assert!(a.is_ok(), "read_ahead gave an error on {text:?}");
                answered = true;
            }
        }
        assert_eq!(shown(read(text)), plainly, "read differs on {text:?}");
        answered
    }

    #[test]
    fn hostile_files_are_read_as_plainly() {
        let t = |p: &str| {
            format!(r#"{{"values": [{{"name": "T", "properties": {{"addressPrefixes": {p}}}}}]}}"#)
        };
        let mut texts: Vec<String> = vec![
            // keys in strings, escapes before the key
            r#"{"values": [{"name": "\"addressPrefixes\": [\"1.0.0.0/8\"]", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "x\\", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "x\\\"addressPrefixes\": [\"1.0.0.0/8\"]", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"address\u0050refixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"address\u0050refixes": ["2.0.0.0/8"], "addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"], "addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"], "address\u0050refixes": ["3.0.0.0/8"]}}]}"#.into(),
            // key at top level, under other objects
            r#"{"addressPrefixes": ["1.0.0.0/8"], "values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "addressPrefixes": ["1.0.0.0/8"], "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}], "addressPrefixes": ["1.0.0.0/8"]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}], "values": [{"name": "U", "properties": {"addressPrefixes": ["1.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}], "values": 5}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}], "x": }"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]} x"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}]"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8""#.into(),
            // tags / properties as arrays (serde reads structs from sequences)
            r#"{"values": [["T", {"addressPrefixes": ["2.0.0.0/8"]}]]}"#.into(),
            r#"{"values": [["T", [null, null, null, ["2.0.0.0/8"]]]]}"#.into(),
            r#"{"values": [{"name": "T", "properties": [null, null, null, ["2.0.0.0/8"], "addressPrefixes"]}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"x": "addressPrefixes", "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"], "x": ["addressPrefixes"]}}]}"#.into(),
            // key whose value is not a list, list next to it
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": null, "region": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": "addressPrefixes", "r": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"region": "addressPrefixes", "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"region": "x\"addressPrefixes", "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes" "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes":: ["2.0.0.0/8"]}}]}"#.into(),
            // BOM, unicode whitespace, control characters outside the lists
            "\u{feff}{\"values\": [{\"name\": \"T\", \"properties\": {\"addressPrefixes\": [\"2.0.0.0/8\"]}}]}".into(),
            "{\"values\":\u{a0}[{\"name\": \"T\", \"properties\": {\"addressPrefixes\": [\"2.0.0.0/8\"]}}]}".into(),
            "{\"values\": [{\"name\": \"T\", \"properties\": {\"addressPrefixes\":\u{a0}[\"2.0.0.0/8\"]}}]}".into(),
            "{\"values\": [{\"name\": \"T\", \"properties\": {\"addressPrefixes\"\u{b}: [\"2.0.0.0/8\"]}}]}".into(),
            "{\"values\": [{\"name\": \"T\u{1}\", \"properties\": {\"addressPrefixes\": [\"2.0.0.0/8\"]}}]}".into(),
            "{\"values\": [{\"name\": \"T\", \"properties\": {\"addressPrefixes\": [\"2.0.0.0/8\"]}}]}\u{0}".into(),
            // keys inside a list, nested lists, lists in lists
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": [{"addressPrefixes": ["2.0.0.0/8"]}]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"address\u0050refixes": [{"addressPrefixes": ["2.0.0.0/8"]}]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"address\u0050refixes": {"addressPrefixes": ["2.0.0.0/8"]}}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"region": {"addressPrefixes": ["2.0.0.0/8"]}, "addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": {"addressPrefixes": ["2.0.0.0/8"]}, "properties": {"addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": []}}, {"name": "U", "properties": {"addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": [ ]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {}}]}"#.into(),
            r#"{"values": []}"#.into(),
            r#"{"values": [], "addressPrefixes": ["3.0.0.0/8"]}"#.into(),
            r#"{"addressPrefixes": []}"#.into(),
            r#""addressPrefixes": ["3.0.0.0/8"]"#.into(),
            r#"["addressPrefixes", ["3.0.0.0/8"]]"#.into(),
            r#"[{"addressPrefixes": ["3.0.0.0/8"]}]"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}, {"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}, "properties": {"addressPrefixes": ["3.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "name": "U", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}], "cloud": "a", "cloud": "b"}"#.into(),
            r#"{"changeNumber": -5, "cloud": null, "values": [{"name": "T", "properties": {"changeNumber": "7", "addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            r#"{"changeNumber": 1.5, "values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}]}"#.into(),
            // bad prefixes in a read-ahead file
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.0/8"]}}, {"name": "U", "properties": {"addressPrefixes": ["3.0.0.0/88"]}}]}"#.into(),
            r#"{"values": [{"name": "T", "properties": {"addressPrefixes": ["2.0.0.1/8"]}}, {"name": "U", "properties": {"address\u0050refixes": ["3.0.0.0/88"]}}]}"#.into(),
        ];
        for list in [
            "[\"2.0.0.0/8\"]]",
            "[\"2.0.0.0/8\"]",
            "[\"]\"]",
            "[\"2.0.0.0/8\", \"]\"]",
            "[\"2.0.0.0/8\" , [\"3.0.0.0/8\"]]",
            "[[\"3.0.0.0/8\"], \"2.0.0.0/8\"]",
            "[[]]",
            "[[], \"2.0.0.0/8\"]",
            "[\"2.0.0.0/8\"\u{1}]",
            "[\"2.0.0.0/8\u{1}\"]",
            "[\"2.0.0.0/8\u{1f}\"]",
            "[\"2.0.0.0/8\u{7f}\"]",
            "[\" 2.0.0.0/8\u{b}\"]",
            "[\"\u{c}2.0.0.0/8\"]",
            "[\"\u{85}2.0.0.0/8\"]",
            "[\"\u{a0}2.0.0.0/8\u{3000}\"]",
            "[\"\u{0}\"]",
            "[\u{c}\"2.0.0.0/8\"]",
            "[\"2.0.0.0/8\"\u{b}]",
            "[\"2.0.0.0/8\",\u{a0}\"3.0.0.0/8\"]",
            "[\"2.0.0.0/8\"\n,\n\"3.0.0.0/8\"\r\n]",
            "[\"2.0.0.0/8\", \"3.0.0.0/8\",]",
            "[,]",
            "[\"2.0.0.0/8\" \"3.0.0.0/8\"]",
            "[\"2.0.0.0/8\\\", \"3.0.0.0/8\"]",
            "[\"2.0.0.0\\/8\"]",
            "[\"2.0.0.0/8\", null]",
            "[null]",
            "[\"2.0.0.0/8\"",
            "[\"2.0.0.0/8\", \"",
            "[\"::ffff:1.2.3.4/128\"]",
            "[\"1.2.3.4/32\", \"1.2.3.4/32\"]",
            "[\"fe80::1%1/64\"]",
            "[\"+1.2.3.4/32\"]",
            "[\"01.2.3.4/32\"]",
            "[\"1.2.3.4/032\"]",
            "[\"1.2.3.4/ 32\"]",
            "[\"1.2.3.4 /32\"]",
            "[\"１.2.3.4/32\"]",
        ] {
            texts.push(t(list));
            texts.push(file_of(&[
                (r#""A""#.into(), String::new(), r#"["9.0.0.0/8"]"#.into()),
                (r#""B""#.into(), String::new(), list.into()),
                (r#""C""#.into(), String::new(), r#"["8.0.0.0/8"]"#.into()),
            ]));
        }
        let mut answered = 0;
        for text in &texts {
            answered += usize::from(agree(text));
        }
        assert!(answered > 10, "{answered}");
    }

    /// A small valid file, many tags, each list read ahead.
    fn base_file() -> impl Strategy<Value = String> {
        let list = array_of(prop_oneof![
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, len)| format!("\"{}/{len}\"", std::net::Ipv4Addr::from(a))),
            Just("\"2603:1000::/40\"".to_string()),
        ]);
        let extra = prop::sample::select(vec!["", r#""region": "x", "#, r#""changeNumber": 3, "#])
            .prop_map(str::to_string);
        let name =
            prop::sample::select(vec![r#""A""#, r#""B]""#, r#""C\\""#]).prop_map(str::to_string);
        prop::collection::vec((name, extra, list), 1..4).prop_map(|tags| file_of(&tags))
    }

    /// Pieces to put in anywhere.
    fn nasty_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "[",
                "]",
                "{",
                "}",
                ",",
                ":",
                "\"",
                "\\",
                "\\\"",
                "\\\\",
                " ",
                "\n",
                "\u{b}",
                "\u{c}",
                "\u{1}",
                "\u{1f}",
                "\u{7f}",
                "\u{a0}",
                "\u{feff}",
                "\u{85}",
                "\u{3000}",
                "null",
                "5",
                "\\u0050",
                "\"addressPrefixes\"",
                "\"addressPrefixes\":",
                "\"addressPrefixes\": [",
                "\"addressPrefixes\": []",
                "\"addressPrefixes\": [\"1.2.3.0/24\"]",
                "\"addressPrefixes\": [\"1.2.3.0/24\"],",
                ", \"addressPrefixes\": [\"1.2.3.0/24\"]",
                "\"x\": [\"1.2.3.0/24\"],",
                "\"values\": [],",
                ", \"values\": []",
                "\"1.2.3.0/24\"",
                "\"1.2.3.0/24\",",
                "1.2.3.0/24",
                "/",
                ".",
                "9",
                "{\"name\": \"N\", \"properties\": {\"addressPrefixes\": [\"7.0.0.0/8\"]}},",
                "\"properties\": {\"addressPrefixes\": [\"6.0.0.0/8\"]},",
            ])
            .prop_map(str::to_string),
            "[\\PC]{1,2}",
            any::<char>().prop_map(String::from),
        ]
    }

    /// An edit at a place in a text: pieces put in, characters taken out, or both.
    #[derive(Clone, Debug)]
    enum Edit {
        Insert(prop::sample::Index, String),
        Delete(prop::sample::Index, usize),
        Swap(prop::sample::Index, String, usize),
    }

    /// Up to three edits.
    fn edits() -> impl Strategy<Value = Vec<Edit>> {
        prop::collection::vec(
            prop_oneof![
                3 => (any::<prop::sample::Index>(), nasty_piece()).prop_map(|(i, p)| Edit::Insert(i, p)),
                1 => (any::<prop::sample::Index>(), 1usize..20).prop_map(|(i, n)| Edit::Delete(i, n)),
                2 => (any::<prop::sample::Index>(), nasty_piece(), 1usize..4).prop_map(|(i, p, n)| Edit::Swap(i, p, n)),
            ],
            0..4,
        )
    }

    /// The text with the edits made, each at a character boundary.
    fn apply(mut text: String, edits: &[Edit]) -> String {
        for edit in edits {
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let (at, drop, put) = match edit {
                Edit::Insert(i, p) => (bounds[i.index(bounds.len())], 0, p.as_str()),
                Edit::Delete(i, n) => (bounds[i.index(bounds.len())], *n, ""),
                Edit::Swap(i, p, n) => (bounds[i.index(bounds.len())], *n, p.as_str()),
            };
            let end = bounds
                .iter()
                .copied()
                .filter(|b| *b >= at)
                .nth(drop)
                .unwrap_or(text.len());
            text = format!("{}{put}{}", &text[..at], &text[end..]);
        }
        text
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

        /// A valid file, edited anywhere with pieces that might fool the cut.
        #[test]
        fn edited_files_are_read_as_plainly((base, edits) in (base_file(), edits())) {
            let text = apply(base, &edits);
            agree(&text);
        }
    }

    /// Every text of up to six pieces: whatever the one-pass reader takes is JSON, read the same.
    #[test]
    fn one_pass_takes_only_json_arrays_of_short_texts() {
        let pieces = [
            "[",
            "]",
            ",",
            "\"",
            " ",
            "\\",
            "1.2.3.0/24",
            "\u{b}",
            "\u{a0}",
            "\u{1}",
        ];
        let mut taken = 0;
        let mut text = String::new();
        let mut digits = [0usize; 7];
        for len in 0..=6u32 {
            for n in 0..pieces.len().pow(len) {
                let mut k = n;
                text.clear();
                for d in digits.iter_mut().take(len as usize) {
                    *d = k % pieces.len();
                    k /= pieces.len();
                    text.push_str(pieces[*d]);
                }
                if let Some((prefixes, _)) = plain_prefixes(&text) {
                    taken += 1;
                    let strings: Vec<String> =
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
                    let parsed: Vec<IpNet> = strings
                        .iter()
                        .map(|s| parse_prefix(trim(s)).expect("prefix").0)
                        .collect();
                    assert_eq!(prefixes, parsed, "{text:?}");
                }
            }
        }
        assert!(taken > 10, "{taken}");
    }
}
