//! Reading a service-tag file's JSON: serde into borrowed structs, then each tag's prefixes parsed
//! and checked. On a large file the second part runs on a second thread while serde reads on: tags
//! are handed over in batches as they are read, so most of the prefixes' cost (about half of the
//! work) overlaps the reading. A small file, or a machine that cannot start a thread, is read on one
//! thread, with the same result.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{Scope, ScopedJoinHandle};

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::prefix::{parse_prefix, trim};
use super::service_tags::{HostBits, ServiceTag, ServiceTagError};

/// Files from this size on convert their prefixes on a second thread; Microsoft's weekly files are
/// 1 to 4 MB, the embedded sample a few KB.
const WORKER_FROM_BYTES: usize = 256 * 1024;
/// Prefix-list text per hand-over: small enough that the worker starts at once and that the last
/// batches, which both threads share, come out even (a file's first tags are its largest); large
/// enough that the hand-overs stay few (about 35 for the Public file), since each may wake the
/// worker.
const BATCH_BYTES: usize = 64 * 1024;
/// Tags per hand-over at most, whatever their size: a file of tags without prefixes still goes over
/// in bounded batches.
const BATCH_TAGS: usize = 1024;

/// What a file holds once read: its own fields and its tags, prefixes checked.
pub(super) struct TagFileParts {
    pub cloud: String,
    pub change_number: String,
    pub tags: Vec<ServiceTag>,
    pub host_bits: Vec<HostBits>,
}

/// Reads a file's text (BOM already removed).
pub(super) fn read(text: &str) -> Result<TagFileParts, ServiceTagError> {
    read_on(text, text.len() >= WORKER_FROM_BYTES)
}

/// [`read`], with the prefixes converted on a second thread or not.
fn read_on(text: &str, second_thread: bool) -> Result<TagFileParts, ServiceTagError> {
    std::thread::scope(|scope| {
        let mut sink = second_thread
            .then(|| Sink::worker(scope))
            .flatten()
            .unwrap_or_else(|| Sink::Inline(Converter::default()));
        let own = read_own(text, &mut sink);
        sink.finish(own)
    })
}

/// Runs serde over the text, handing each tag to `sink`: the file's own fields.
fn read_own<'a>(text: &'a str, sink: &mut Sink<'_, 'a>) -> Result<TagFileParts, ServiceTagError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let own = FileSeed { sink }.deserialize(&mut de)?;
    de.end()?;
    Ok(own)
}

/// A batch of read tags and its place in the file.
type Batch<'a> = (usize, Vec<RawTag<'a>>);
/// The queue of batches, shared by the worker and, once serde is done, this thread.
type Queue<'a> = Arc<Mutex<mpsc::Receiver<Batch<'a>>>>;

/// Where read tags go.
enum Sink<'scope, 'a> {
    /// Converted at once, on this thread.
    Inline(Converter),
    /// Queued for the worker thread, about `BATCH_BYTES` of prefix lists at a time.
    Worker {
        sender: mpsc::Sender<Batch<'a>>,
        queue: Queue<'a>,
        batch: Vec<RawTag<'a>>,
        /// The prefix-list text in `batch`.
        bytes: usize,
        /// Batches sent so far: the next one's place in the file.
        sent: usize,
        worker: ScopedJoinHandle<'scope, Vec<(usize, Converter)>>,
    },
}

impl<'scope, 'a: 'scope> Sink<'scope, 'a> {
    /// A worker thread converting queued batches; `None` when no thread can be started.
    fn worker<'env>(scope: &'scope Scope<'scope, 'env>) -> Option<Sink<'scope, 'a>> {
        let (sender, receiver) = mpsc::channel::<Batch<'a>>();
        let queue = Arc::new(Mutex::new(receiver));
        let shared = Arc::clone(&queue);
        let worker = std::thread::Builder::new()
            .name("service-tags".into())
            .spawn_scoped(scope, move || {
                let mut done = Vec::new();
                // the lock is held while waiting: only this thread takes from the queue until the
                // sender is gone, and then nothing more arrives
                while let Ok((index, batch)) = next_batch(&shared) {
                    done.push((index, Converter::of(batch)));
                }
                done
            })
            .ok()?;
        Some(Sink::Worker {
            sender,
            queue,
            batch: Vec::new(),
            bytes: 0,
            sent: 0,
            worker,
        })
    }
}

/// The next queued batch; an error once the queue is empty and its sender gone (or poisoned,
/// which only a panic in the other converter causes, and `finish` passes that panic on).
fn next_batch<'a>(queue: &Queue<'a>) -> Result<Batch<'a>, mpsc::RecvError> {
    queue
        .lock()
        .map_err(|_| mpsc::RecvError)
        .and_then(|receiver| receiver.recv())
}

impl<'a> Sink<'_, 'a> {
    fn take(&mut self, raw: RawTag<'a>) {
        match self {
            Sink::Inline(converter) => converter.take(raw),
            Sink::Worker { batch, bytes, .. } => {
                *bytes += raw
                    .properties
                    .address_prefixes
                    .map_or(0, |list| list.get().len());
                batch.push(raw);
                if *bytes >= BATCH_BYTES || batch.len() >= BATCH_TAGS {
                    self.flush();
                }
            }
        }
    }

    fn flush(&mut self) {
        if let Sink::Worker {
            sender,
            batch,
            bytes,
            sent,
            ..
        } = self
            && !batch.is_empty()
        {
            let full = std::mem::take(batch);
            *bytes = 0;
            // the worker runs until the sender is dropped, so this cannot fail while it lives; had
            // it panicked, `finish` passes the panic on
            let _ = sender.send((*sent, full));
            *sent += 1;
        }
    }

    /// The converted tags added to the file's own fields (`own`, or its error). With a worker, this
    /// thread, done with serde, converts what is still queued alongside it, and the batches are put
    /// back in file order.
    fn finish(
        mut self,
        own: Result<TagFileParts, ServiceTagError>,
    ) -> Result<TagFileParts, ServiceTagError> {
        self.flush();
        let converter = match self {
            Sink::Inline(converter) => converter,
            Sink::Worker {
                sender,
                queue,
                worker,
                ..
            } => {
                drop(sender); // the worker stops once the queue is empty
                let mut done = Vec::new();
                if own.is_ok() {
                    while let Ok((index, batch)) = next_batch(&queue) {
                        done.push((index, Converter::of(batch)));
                    }
                }
                done.extend(
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
                done.sort_unstable_by_key(|(index, _)| *index);
                done.into_iter()
                    .fold(Converter::default(), |all, (_, next)| all.then(next))
            }
        };
        own.and_then(|own| converter.finish(own))
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
    fn of(batch: Vec<RawTag<'_>>) -> Converter {
        let mut converter = Converter::default();
        batch.into_iter().for_each(|raw| converter.take(raw));
        converter
    }

    /// This batch's results followed by the next one's; the first invalid prefix ends them.
    fn then(mut self, next: Converter) -> Converter {
        if self.bad.is_none() {
            self.tags.extend(next.tags);
            self.host_bits.extend(next.host_bits);
            self.bad = next.bad;
        }
        self
    }

    fn take(&mut self, raw: RawTag<'_>) {
        if self.bad.is_some() {
            return;
        }
        let name = raw.name.into_owned();
        let props = raw.properties;
        let list = props.address_prefixes.map_or("[]", RawValue::get);
        let prefixes = match self.plain_list(&name, list) {
            Some(prefixes) => prefixes,
            None => match self.any_list(&name, list) {
                Some(prefixes) => prefixes,
                None => return,
            },
        };
        self.tags.push(ServiceTag {
            name,
            region: props.region.map(Cow::into_owned).unwrap_or_default(),
            system_service: props
                .system_service
                .map(Cow::into_owned)
                .unwrap_or_default(),
            change_number: props.change_number.map(|c| c.0).unwrap_or_default(),
            prefixes,
        });
    }

    /// The prefixes of a list as Microsoft writes it: strings without escapes, each a valid
    /// prefix, between `[`, commas and `]`, read in one pass over the text. `None` for anything
    /// else, which [`Converter::any_list`] then reads from the start, deciding as it always has
    /// (an odd list, or an invalid prefix, is rare and its error must not depend on this path).
    fn plain_list(&mut self, name: &str, list: &str) -> Option<Vec<IpNet>> {
        let bytes = list.as_bytes();
        let host_bits_before = self.host_bits.len();
        // a quoted prefix and its comma take 10 bytes of the list at least
        let mut prefixes = Vec::with_capacity(bytes.len() / 10);
        let mut marks = memchr::memchr2_iter(b'"', b'\\', bytes);
        let mut after = 0; // where the text after the last string starts
        let plain = loop {
            let Some(open) = marks.next() else {
                break true;
            };
            let Some(close) = marks.next() else {
                break false;
            };
            let gap = &bytes[after..open];
            let (text, gap_ok) = (&list[open + 1..close], plain_gap(gap, after == 0));
            if bytes[open] != b'"' || bytes[close] != b'"' || !gap_ok {
                break false;
            }
            match self.prefix(name, text) {
                Ok(net) => prefixes.push(net),
                Err(_) => break false,
            }
            after = close + 1;
        };
        if plain && list_closes(list, after) {
            return Some(prefixes);
        }
        self.host_bits.truncate(host_bits_before);
        None
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
            match self.prefix(name, text) {
                Ok(net) => prefixes.push(net),
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

    /// One prefix of the tag `name`, blanks trimmed; one published with host bits set is kept in
    /// `host_bits` and used masked. `Err` says why the text is not a prefix.
    fn prefix(&mut self, name: &str, text: &str) -> Result<IpNet, String> {
        let given = trim(text);
        let (used, host_bits) = parse_prefix(given)?;
        if host_bits {
            self.host_bits.push(HostBits {
                tag: name.to_string(),
                given: given.to_string(),
                used,
            });
        }
        Ok(used)
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

/// `changeNumber`: a number in the download files, a string in the Discovery API. A visitor that takes
/// either, instead of an untagged enum, which buffers every value before trying its variants.
struct Change(String);

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Change;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a change number (number or string)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Change, E> {
                Ok(Change(v.to_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The strings of a JSON array (its text, which serde has already checked as JSON). Without escapes
/// it is split at its quotes, which then can only delimit strings; with escapes, or anything but
/// strings in it, serde reads it and names what is wrong.
fn array_strings(list: &str) -> Result<Vec<Cow<'_, str>>, serde_json::Error> {
    if !list.contains('\\') {
        if let Some(texts) = split_strings(list) {
            return Ok(texts);
        }
    }
    let texts: Vec<Text<'_>> = serde_json::from_str(list)?;
    Ok(texts.into_iter().map(|t| t.0).collect())
}

/// Whether the text before a list's first string (`first`: a `[` and blanks) or between two
/// strings (blanks and one comma) is what it must be; the text is valid JSON, so a gap between two
/// strings that holds only blanks and commas holds exactly one.
fn plain_gap(gap: &[u8], first: bool) -> bool {
    if first {
        gap.iter().filter(|b| **b == b'[').count() == 1 && blank_or(gap, b'[')
    } else {
        blank_or(gap, b',')
    }
}

/// Whether the text from `after` (just past the last string, or 0 when there is none) ends the
/// list: `]` and blanks, or for a list without strings, all of it is `[ ]`.
fn list_closes(list: &str, after: usize) -> bool {
    if after == 0 {
        let inner = list
            .trim()
            .strip_prefix('[')
            .and_then(|l| l.strip_suffix(']'));
        return inner.is_some_and(|inner| inner.trim().is_empty());
    }
    let tail = &list.as_bytes()[after..];
    tail.iter().filter(|b| **b == b']').count() == 1 && blank_or(tail, b']')
}

/// Only JSON blanks and `allowed`.
fn blank_or(text: &[u8], allowed: u8) -> bool {
    text.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r') || *b == allowed)
}

/// `[ "a" , "b" ]` with any JSON whitespace; `None` for anything else. The text is valid JSON
/// without escapes, so quotes pair up around strings and a gap between two strings that holds only
/// blanks and commas holds exactly one comma: the strings are all the array holds exactly when the
/// text before the first is `[`, after the last `]`, and between them blanks and commas.
fn split_strings(list: &str) -> Option<Vec<Cow<'_, str>>> {
    let bytes = list.as_bytes();
    let mut quotes = memchr::memchr_iter(b'"', bytes);
    // tags have tens of prefixes, often more
    let mut texts = Vec::with_capacity(32);
    let mut after = 0; // where the text after the last string starts
    while let Some(open) = quotes.next() {
        let close = quotes.next()?;
        if !plain_gap(&bytes[after..open], after == 0) {
            return None;
        }
        texts.push(Cow::Borrowed(&list[open + 1..close]));
        after = close + 1;
    }
    list_closes(list, after).then_some(texts)
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

/// One element of `values`, as read.
#[derive(Deserialize)]
struct RawTag<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    properties: RawProperties<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties<'a> {
    #[serde(default)]
    change_number: Option<Change>,
    #[serde(borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    system_service: Option<Cow<'a, str>>,
    /// Kept as JSON text: the worker reads it, so this thread only scans it.
    #[serde(borrow, default)]
    address_prefixes: Option<&'a RawValue>,
}

/// The file's top-level object: its own fields are kept, each element of `values` goes to the sink
/// as soon as it is read. Written by hand because a derived struct cannot carry the sink; it
/// behaves as the derived one did (unknown fields ignored, a repeated field an error, `values`
/// required).
struct FileSeed<'s, 'scope, 'a> {
    sink: &'s mut Sink<'scope, 'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for FileSeed<'_, '_, 'a> {
    type Value = TagFileParts;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<TagFileParts, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for FileSeed<'_, '_, 'a> {
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
                        sink: &mut *self.sink,
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
            change_number: change_number.map(|c| c.0).unwrap_or_default(),
            tags: Vec::new(),
            host_bits: Vec::new(),
        })
    }
}

/// The `values` array: each tag to the sink.
struct TagsSeed<'s, 'scope, 'a> {
    sink: &'s mut Sink<'scope, 'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for TagsSeed<'_, '_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TagsSeed<'_, '_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of service tags")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawTag<'de>>()? {
            self.sink.take(raw);
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

    /// A JSON array of strings, numbers, nulls and nested lists.
    fn arrays() -> impl Strategy<Value = String> {
        array_of(prop_oneof![
            6 => "[0-9a-f.:/]{0,12}".prop_map(|s| format!("\"{s}\"")),
            1 => Just("5".to_string()),
            1 => Just("null".to_string()),
            1 => Just("[\"1.2.3.0/24\"]".to_string()),
            1 => Just("{\"a\": \"b\"}".to_string()),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Splitting at the quotes gives exactly what serde reads, and declines whatever serde
        /// does not read as a list of strings.
        #[test]
        fn split_strings_agrees_with_serde(list in arrays()) {
            let serde: Result<Vec<String>, _> = serde_json::from_str(&list);
            let split = split_strings(&list).map(|t| t.into_iter().map(Cow::into_owned).collect::<Vec<_>>());
            prop_assert_eq!(split, serde.ok(), "{}", list);
        }
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
            converter
                .plain_list("Tag", list)
                .or_else(|| converter.any_list("Tag", list))
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

    #[test]
    fn plain_lists_take_one_pass_and_odd_ones_do_not() {
        let mut converter = Converter::default();
        let plain = converter.plain_list(
            "Tag",
            "[\n  \"10.0.0.0/8\",\n  \"2603:1000::/40\",\"10.1.2.3/24\"\n]",
        );
        assert_eq!(plain.map(|p| p.len()), Some(3));
        assert_eq!(converter.host_bits.len(), 1, "10.1.2.3/24 has host bits");
        assert_eq!(
            converter.plain_list("Tag", " [ ] ").map(|p| p.len()),
            Some(0)
        );
        for odd in [
            r#"["10.0.0.0\/8"]"#,
            r#"["10.0.0.0/8", 5]"#,
            r#"["10.0.0.0/33"]"#,
            "[5]",
        ] {
            assert!(converter.plain_list("Tag", odd).is_none(), "{odd}");
        }
        assert_eq!(
            converter.host_bits.len(),
            1,
            "nothing kept from a list read again"
        );
    }

    /// The parts as comparable values: the error's text, or every field.
    fn outcome(text: &str, second_thread: bool) -> Result<String, String> {
        read_on(text, second_thread)
            .map(|p| {
                format!(
                    "{} {} {:?} {:?}",
                    p.cloud, p.change_number, p.tags, p.host_bits
                )
            })
            .map_err(|e| e.to_string())
    }

    /// The real Public file, and copies with a bad prefix or host bits late in the file, or cut
    /// short: one thread or two, the same tags in the same order, the same error.
    #[test]
    fn a_second_thread_changes_nothing() {
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
        for text in [public.as_str(), bad.as_str(), host_bits.as_str(), cut] {
            assert!(text.len() >= WORKER_FROM_BYTES);
            assert_eq!(outcome(text, true), outcome(text, false));
        }
        assert!(
            outcome(&public, true)
                .expect("valid")
                .contains("AzureCloud")
        );
        assert!(
            outcome(&bad, true)
                .expect_err("bad")
                .contains("is not a valid CIDR prefix")
        );
        assert!(
            outcome(&host_bits, true)
                .expect("host bits")
                .contains("HostBits")
        );
        assert!(
            outcome(cut, true)
                .expect_err("cut")
                .starts_with("not a ServiceTags JSON file")
        );
    }

    /// Thousands of tags without prefixes go over in batches bounded by count, in order.
    #[test]
    fn tags_without_prefixes_go_over_in_bounded_batches() {
        let tags: Vec<String> = (0..4000)
            .map(|i| {
                let prefixes = if i % 1000 == 999 { r#"["10.0.0.0/8"]"# } else { "[]" };
                format!(
                    r#"{{"name": "Tag{i:05}.with-a-long-enough-name", "properties": {{"addressPrefixes": {prefixes}}}}}"#
                )
            })
            .collect();
        let text = format!(r#"{{"cloud": "Public", "values": [{}]}}"#, tags.join(",\n"));
        assert!(text.len() >= WORKER_FROM_BYTES);
        let two = outcome(&text, true).expect("valid");
        assert_eq!(Ok(two.clone()), outcome(&text, false));
        assert!(two.find("Tag00000").expect("first") < two.find("Tag03999").expect("last"));
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
}
