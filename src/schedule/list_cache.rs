//! Availability list pages kept for a moment.
//!
//! The list is what boards, kiosks and the desk poll; the same page is asked
//! for many times between two changes. A page is kept as the bytes that were
//! sent, for at most `schedule.list_cache_ms`, and only while this process
//! has committed no write since it was read (`db::writes_committed`), so
//! whoever changed something through this instance sees it in the next
//! answer. A change made by another instance (or by the CLI) shows after at
//! most the TTL: the seats the list shows are advisory, the booking itself
//! takes the seat under the session's lock. Nothing personal is kept: the
//! list holds sessions, courses, venues and instructors' ids.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

use crate::db::OrganisationId;

/// At most this many pages are kept (a full page is about 45 KB, so about
/// 6 MB at most); when full, those older than half the TTL go.
const MAX_PAGES: usize = 128;

struct Kept {
    body: Bytes,
    at: Instant,
    writes: u64,
}

pub struct ListCache {
    ttl: Duration,
    pages: Mutex<HashMap<(OrganisationId, String), Kept>>,
}

impl ListCache {
    pub fn new(ttl: Duration) -> Self {
        ListCache {
            ttl,
            pages: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The page kept for this organisation and query, if still fresh.
    pub fn get(&self, organisation: OrganisationId, query: &str) -> Option<Bytes> {
        self.get_at(
            organisation,
            query,
            Instant::now(),
            crate::db::writes_committed(),
        )
    }

    /// Keeps a page read when `writes` writes had been committed.
    pub fn put(&self, organisation: OrganisationId, query: &str, writes: u64, body: Bytes) {
        self.put_at(organisation, query, writes, body, Instant::now());
    }

    fn get_at(
        &self,
        organisation: OrganisationId,
        query: &str,
        now: Instant,
        writes: u64,
    ) -> Option<Bytes> {
        if !self.enabled() {
            return None;
        }
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        let kept = pages.get(&(organisation, query.to_owned()))?;
        (kept.writes == writes && now.duration_since(kept.at) < self.ttl).then(|| kept.body.clone())
    }

    fn put_at(
        &self,
        organisation: OrganisationId,
        query: &str,
        writes: u64,
        body: Bytes,
        now: Instant,
    ) {
        if !self.enabled() {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_PAGES {
            let ttl = self.ttl;
            pages.retain(|_, kept| now.duration_since(kept.at) < ttl / 2);
        }
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(
            (organisation, query.to_owned()),
            Kept {
                body,
                at: now,
                writes,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> OrganisationId {
        OrganisationId(uuid::Uuid::from_u128(1))
    }

    #[test]
    fn a_page_is_answered_until_it_is_too_old() {
        let cache = ListCache::new(Duration::from_millis(1000));
        let t0 = Instant::now();
        cache.put_at(org(), "limit=50", 7, Bytes::from_static(b"page"), t0);
        let later = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(
            cache.get_at(org(), "limit=50", later(999), 7),
            Some(Bytes::from_static(b"page"))
        );
        assert_eq!(cache.get_at(org(), "limit=50", later(1000), 7), None);
    }

    #[test]
    fn a_write_committed_since_drops_the_page() {
        let cache = ListCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        cache.put_at(org(), "", 7, Bytes::from_static(b"page"), t0);
        assert_eq!(cache.get_at(org(), "", t0, 8), None);
    }

    #[test]
    fn pages_are_kept_per_organisation_and_query() {
        let cache = ListCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        cache.put_at(org(), "limit=5", 1, Bytes::from_static(b"a"), t0);
        let other = OrganisationId(uuid::Uuid::from_u128(2));
        assert_eq!(cache.get_at(other, "limit=5", t0, 1), None);
        assert_eq!(cache.get_at(org(), "limit=6", t0, 1), None);
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = ListCache::new(Duration::ZERO);
        let t0 = Instant::now();
        cache.put_at(org(), "", 1, Bytes::from_static(b"a"), t0);
        assert_eq!(cache.get_at(org(), "", t0, 1), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = ListCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..MAX_PAGES + 10 {
            cache.put_at(org(), &i.to_string(), 1, Bytes::from_static(b"a"), t0);
        }
        let kept = cache.pages.lock().unwrap().len();
        assert!(kept <= MAX_PAGES, "{kept} pages kept");
        let last = (MAX_PAGES + 9).to_string();
        assert!(cache.get_at(org(), &last, t0, 1).is_some());
    }
}
