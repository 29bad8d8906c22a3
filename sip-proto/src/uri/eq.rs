//! SIP URI equality by the rules of RFC 3261 §19.1.4.

use super::escape::{eq_unescaped, eq_unescaped_ignore_case};
use super::sip::SipUri;
use crate::grammar::{Param, Params};

/// Parameters that, when present in either URI, must be present in both and match.
const MUST_MATCH: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];

/// RFC 3261 §19.1.4 equality of two SIP URIs.
pub(super) fn sip_eq(a: &SipUri<'_>, b: &SipUri<'_>) -> bool {
    a.secure == b.secure
        && opt_eq(a.user, b.user, eq_unescaped)
        && opt_eq(a.password, b.password, eq_unescaped)
        && a.host.rfc_eq(&b.host)
        && a.port == b.port
        && params_eq(a.params, b.params)
        && headers_eq(a, b)
}

fn opt_eq(a: Option<&str>, b: Option<&str>, eq: fn(&str, &str) -> bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => eq(x, y),
        _ => false,
    }
}

fn param_value_eq(a: &Param<'_>, b: &Param<'_>) -> bool {
    opt_eq(a.value, b.value, eq_unescaped_ignore_case)
}

fn find<'a>(params: Params<'a>, name: &str) -> Option<Param<'a>> {
    params
        .iter()
        .find(|p| eq_unescaped_ignore_case(p.name, name))
}

fn params_eq(a: Params<'_>, b: Params<'_>) -> bool {
    for name in MUST_MATCH {
        match (find(a, name), find(b, name)) {
            (None, None) => {}
            (Some(x), Some(y)) if param_value_eq(&x, &y) => {}
            _ => return false,
        }
    }
    // Any other parameter appearing in both must match; one appearing in only one is ignored.
    // A repeated parameter counts by its first occurrence, as every lookup does; comparing each
    // occurrence instead would make `;x=1;x=2` unequal to itself.
    a.iter()
        .all(|pa| match (find(a, pa.name), find(b, pa.name)) {
            (Some(x), Some(y)) => param_value_eq(&x, &y),
            _ => true,
        })
}

fn headers_eq(a: &SipUri<'_>, b: &SipUri<'_>) -> bool {
    let contains = |x: &SipUri<'_>, y: &SipUri<'_>| {
        x.header_pairs().all(|(name, value)| {
            y.header_pairs().any(|(n, v)| {
                eq_unescaped_ignore_case(n, name) && eq_unescaped_ignore_case(v, value)
            })
        })
    };
    contains(a, b) && contains(b, a)
}
