//! CIDR prefixes as Microsoft publishes them, read without allocating: a fast path for the plain
//! forms (dotted decimal, IPv6 hex groups with at most one `::`), and `ipnet` for anything else,
//! which decides. Prefixes are read one after another by the tens of thousands, with octets and
//! groups of varying length, so the fast path computes lengths without branching on them.

use ipnet::IpNet;

/// One prefix and whether it had host bits set: the allocation-free path for the plain forms
/// Microsoft publishes, else `ipnet` (odd forms such as leading zeros, and every error), which
/// decides.
pub(super) fn parse_prefix(given: &str) -> Result<(IpNet, bool), String> {
    match fast_parts(given.as_bytes()) {
        Some(fast) => masked(fast).map_err(|e| e.to_string()),
        None => parse_by_ipnet(given),
    }
}

/// Any form `ipnet` reads, host bits cleared, and whether it had any; `Err` says why it is not a
/// prefix.
fn parse_by_ipnet(given: &str) -> Result<(IpNet, bool), String> {
    let net: IpNet = given
        .parse()
        .map_err(|e: ipnet::AddrParseError| e.to_string())?;
    let used = net.trunc();
    Ok((used, used != net))
}

/// [`parse_prefix`] without the reason: inlined where prefixes are read by the ten thousand, so
/// that the plain forms cost no call.
#[inline(always)]
pub(super) fn parse_plain_prefix(given: &str) -> Option<(IpNet, bool)> {
    match fast_parts(given.as_bytes()) {
        Some(fast) => masked(fast).ok(),
        None => parse_by_ipnet(given).ok(),
    }
}

/// A prefix as read by [`fast_parts`], host bits cleared, and whether it had any.
#[inline(always)]
fn masked(fast: Fast) -> Result<(IpNet, bool), ipnet::PrefixLenError> {
    Ok(match fast {
        Fast::V4(addr, len) => {
            let net = addr & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (
                IpNet::V4(ipnet::Ipv4Net::new(net.into(), len)?),
                net != addr,
            )
        }
        Fast::V6(addr, len) => {
            let net = addr & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (
                IpNet::V6(ipnet::Ipv6Net::new(net.into(), len)?),
                net != addr,
            )
        }
    })
}

/// `str::trim`, after a quick look at both ends: prefixes almost never carry blanks.
pub(super) fn trim(text: &str) -> &str {
    match text.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// A prefix read by [`fast_parts`]: the address as given (host bits included) and the length.
enum Fast {
    V4(u32, u8),
    V6(u128, u8),
}

/// `address/length` in the plain forms Microsoft publishes (dotted decimal without leading zeros;
/// hexadecimal groups with at most one `::`; a decimal length without leading zeros), read from the
/// bytes in one pass without allocating. Anything else (odd forms such as an IPv4 tail in an IPv6
/// address, and every error) returns `None` and goes through `ipnet`, which decides: this path only
/// ever accepts what `ipnet` accepts, with the same result (property-tested through [`fast_prefix`]).
#[inline(always)]
fn fast_parts(text: &[u8]) -> Option<Fast> {
    fast_until(text, |end| end == text.len()).map(|(fast, _)| fast)
}

/// A plain-form prefix at the start of `text` whose length ends where `ends` allows (the end of the
/// text, or a quote); the prefix and where its length ends.
#[inline(always)]
fn fast_until(text: &[u8], ends: impl Fn(usize) -> bool) -> Option<(Fast, usize)> {
    let length =
        |at: usize, most: u8| len_digits(text, at).filter(|(len, end)| *len <= most && ends(*end));
    // dotted decimal first: three prefixes in four are IPv4, and IPv6 text fails it at once
    if let Some((addr, at)) = fast_v4(text) {
        let (len, end) = length(at, 32)?;
        return Some((Fast::V4(addr, len), end));
    }
    let (addr, at) = fast_v6(text)?;
    let (len, end) = length(at, 128)?;
    Some((Fast::V6(addr, len), end))
}

/// [`fast_parts`] as the prefix `ipnet` would give (host bits kept), for the tests.
#[cfg(test)]
pub(crate) fn fast_prefix(text: &str) -> Option<IpNet> {
    match fast_parts(text.as_bytes())? {
        Fast::V4(addr, len) => ipnet::Ipv4Net::new(addr.into(), len).ok().map(IpNet::V4),
        Fast::V6(addr, len) => ipnet::Ipv6Net::new(addr.into(), len).ok().map(IpNet::V6),
    }
}

/// `/n` at `at`: 1 to 3 digits, no leading zero except "0" itself; the value and where it ends. A
/// digit after three is left for the caller, which expects the end of the prefix there.
fn len_digits(text: &[u8], at: usize) -> Option<(u8, usize)> {
    match *text.get(at..)? {
        [b'/', a @ b'1'..=b'2', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => {
            let len = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            Some((u8::try_from(len).ok()?, at + 4))
        }
        [b'/', a @ b'1'..=b'9', b @ b'0'..=b'9', ..] => {
            Some(((a - b'0') * 10 + (b - b'0'), at + 3))
        }
        [b'/', d @ b'0'..=b'9', ..] => Some((d - b'0', at + 2)),
        _ => None,
    }
}

/// A prefix in the plain forms (as [`fast_parts`] reads them) from `open`, ending at a `"`: read
/// from a JSON list in place, so that its string need not be scanned for its end first. The prefix
/// used, whether it had host bits set, and where the quote is; `None` for anything else.
#[inline(always)]
pub(super) fn quoted_plain_prefix(bytes: &[u8], open: usize) -> Option<(IpNet, bool, usize)> {
    let text = bytes.get(open..)?;
    let (fast, end) = fast_until(text, |end| text.get(end) == Some(&b'"'))?;
    let (used, host_bits) = masked(fast).ok()?;
    Some((used, host_bits, open + end))
}

/// One decimal octet at `at`: 1 to 3 digits without a leading zero, at most 255; the value and
/// where it ends. A fourth digit is left for the caller, which expects a `.` or `/` there. Octets
/// have 1, 2 or 3 digits at random, so the length is computed without branching on it.
#[inline(always)]
fn octet(text: &[u8], at: usize) -> Option<(u32, usize)> {
    let digit = |i: usize| text.get(at + i).map_or(u8::MAX, |b| b.wrapping_sub(b'0'));
    let (d0, d1, d2) = (digit(0), digit(1), digit(2));
    if d0 > 9 {
        return None;
    }
    let two = d1 <= 9;
    let three = two & (d2 <= 9);
    let one_digit = u32::from(d0);
    let two_digits = one_digit * 10 + u32::from(d1 & 15);
    let three_digits = two_digits * 10 + u32::from(d2 & 15);
    let value = if three {
        three_digits
    } else if two {
        two_digits
    } else {
        one_digit
    };
    let len = 1 + usize::from(two) + usize::from(three);
    if (two & (d0 == 0)) | (value > 255) {
        return None;
    }
    Some((value, at + len))
}

/// `a.b.c.d` at the start; the value and where it ends.
fn fast_v4(text: &[u8]) -> Option<(u32, usize)> {
    let (a, at) = octet(text, 0)?;
    let (b, at) = octet(text, dot(text, at)?)?;
    let (c, at) = octet(text, dot(text, at)?)?;
    let (d, at) = octet(text, dot(text, at)?)?;
    Some(((a << 24) | (b << 16) | (c << 8) | d, at))
}

fn dot(text: &[u8], at: usize) -> Option<usize> {
    (text.get(at) == Some(&b'.')).then_some(at + 1)
}

/// Hex digit values, 0xFF for any other byte.
const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        table[b"0123456789abcdef"[i] as usize] = i as u8;
        table[b"0123456789ABCDEF"[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// An IPv6 address at the start, up to a `/` or the end: up to eight groups of 1 to 4 hex digits,
/// with at most one `::` standing for one or more zero groups; no IPv4 tail (that form goes to the
/// general parser). The value and where it ends.
fn fast_v6(text: &[u8]) -> Option<(u128, usize)> {
    let (mut head, mut heads) = (0u128, 0u32);
    let (mut tail, mut tails) = (0u128, 0u32);
    let mut gap = false;
    let mut at = 0;
    if text.starts_with(b"::") {
        gap = true;
        at = 2;
    }
    loop {
        // a group: 1 to 4 hex digits, their count computed without branching on it
        let hex = |i: usize| text.get(at + i).map_or(0xFF, |b| HEX[usize::from(*b)]);
        let (h0, h1, h2, h3) = (hex(0), hex(1), hex(2), hex(3));
        let one = h0 < 16;
        let two = one & (h1 < 16);
        let three = two & (h2 < 16);
        let four = three & (h3 < 16);
        if !one {
            if gap && heads + tails == 0 && at == 2 {
                break; // "::" alone (or "::/n")
            }
            return None;
        }
        if four && hex(4) < 16 {
            return None;
        }
        let g1 = u32::from(h0);
        let g2 = (g1 << 4) | u32::from(h1 & 15);
        let g3 = (g2 << 4) | u32::from(h2 & 15);
        let g4 = (g3 << 4) | u32::from(h3 & 15);
        let group = if four {
            g4
        } else if three {
            g3
        } else if two {
            g2
        } else {
            g1
        };
        at += 1 + usize::from(two) + usize::from(three) + usize::from(four);
        if gap {
            (tail, tails) = ((tail << 16) | u128::from(group), tails + 1);
        } else {
            (head, heads) = ((head << 16) | u128::from(group), heads + 1);
        }
        if heads + tails > 8 {
            return None;
        }
        match text.get(at) {
            None | Some(b'/') => break,
            Some(b':') => at += 1,
            _ => return None,
        }
        if text.get(at) == Some(&b':') {
            if gap {
                return None;
            }
            gap = true;
            at += 1;
            if matches!(text.get(at), None | Some(b'/')) {
                break;
            }
        }
    }
    let value = if gap {
        if heads + tails > 7 {
            return None;
        }
        head.checked_shl(16 * (8 - heads)).unwrap_or(0) | tail
    } else if heads == 8 {
        head
    } else {
        return None;
    };
    Some((value, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Prefix-like text: the characters of both families and a few that are not.
    fn prefix_like() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,4}/[0-9]{1,3}",
            "[0-9a-fA-F:]{2,20}/[0-9]{1,3}",
            "[0-9a-fA-F:./ \"\\\\]{0,24}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Read in place up to a quote, a prefix is what the string up to that quote parses as:
        /// whatever follows the quote, and whenever the string is in a plain form.
        #[test]
        fn a_quoted_prefix_reads_as_its_string(text in prefix_like(), tail in "[\",\\]0-9 ]{0,3}") {
            let quoted = format!("{text}\"{tail}");
            let plain = fast_parts(text.as_bytes()).and_then(|fast| masked(fast).ok());
            match quoted_plain_prefix(quoted.as_bytes(), 0) {
                Some((used, host_bits, close)) => {
                    prop_assert_eq!(close, text.len(), "{:?}", quoted);
                    prop_assert_eq!(Some((used, host_bits)), plain);
                    prop_assert_eq!(Some((used, host_bits)), parse_by_ipnet(&text).ok());
                }
                None => prop_assert!(plain.is_none() || text.contains('"'), "{:?} declined", quoted),
            }
        }
    }
}
