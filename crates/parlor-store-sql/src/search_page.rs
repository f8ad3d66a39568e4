//! A message search's page, written once for every backend: the backend finds the matches a
//! user may read, newest first, up to the windows the page needs; here they are ranked window
//! by window, the page is cut out, and where the next one starts is worked out. The cost of a
//! page follows its position in the list, never the number of matches in the server.

use std::cmp::Ordering;

use parlor_core::{MessageId, SearchCursor};
use parlor_store::{MessageSearch, SearchPage, StoreResult};

use crate::backend::Backend;
use crate::statement::Conn;

/// A match the page may show, as the backend found it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: MessageId,
    /// When it was sent (milliseconds): equal scores rank newest first.
    pub created_at: i64,
    /// How well it matches, higher is better; a backend that ranks in [`Backend::rank_window`]
    /// may put what it needs there (SQLite: the number of matches).
    pub score: f64,
    /// Characters of its text, for a backend that weighs length.
    pub length: f64,
    /// The excerpt, when the backend made it while finding the match.
    pub snippet: Option<String>,
}

/// Best first, then newest first.
pub fn by_rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.score.total_cmp(&a.score).then(b.created_at.cmp(&a.created_at)).then(b.id.cmp(&a.id))
}

/// The page of `search` (see `Store::search_message_page`).
pub async fn message_page<B: Backend>(conn: &mut Conn<'_, B>, search: &MessageSearch) -> StoreResult<SearchPage> {
    let window = search.window.max(1) as usize;
    let end = search.offset as usize + search.limit as usize;
    let wanted = end.div_ceil(window).max(1) * window;
    // One more than the windows tells whether anything follows them.
    let mut found = B::search_candidates(conn, search, wanted + 1).await?;
    let more_beyond = found.len() > wanted;
    found.truncate(wanted);
    let (page, next) = rank_and_cut(found, search, window, more_beyond, B::rank_window);
    if page.is_empty() {
        return Ok(SearchPage { hits: Vec::new(), next: None });
    }
    let hits = B::search_hits(conn, search, page).await?;
    Ok(SearchPage { hits, next })
}

/// Ranks `found` (newest first, whole windows) window by window and cuts the page out of it.
fn rank_and_cut(
    mut found: Vec<Candidate>,
    search: &MessageSearch,
    window: usize,
    more_beyond: bool,
    rank: impl Fn(&mut [Candidate]),
) -> (Vec<Candidate>, Option<SearchCursor>) {
    // Where each window starts (all its ids are below it), and past the last the id below
    // which the next one would start: the first is pinned above the newest match, so a
    // message sent later never shifts the pages of a cursor.
    let top = search.below.or_else(|| found.first().map(|c| MessageId(c.id.0 + 1)));
    let mut tops: Vec<Option<MessageId>> = vec![top];
    tops.extend(found.chunks(window).map(|chunk| chunk.last().map(|c| c.id)));
    for chunk in found.chunks_mut(window) {
        rank(chunk);
    }
    let (start, end) = (search.offset as usize, search.offset as usize + search.limit as usize);
    let follows = end < found.len() || (end == found.len() && more_beyond);
    let next = follows
        .then(|| tops.get(end / window).copied().flatten())
        .flatten()
        .map(|below| SearchCursor { below, skip: u32::try_from(end % window).unwrap_or(u32::MAX) });
    let page = found.into_iter().skip(start).take(end - start).collect();
    (page, next)
}

#[cfg(test)]
mod tests {
    use parlor_core::{SearchQuery, UserId};

    use super::*;

    fn search(offset: u32, limit: u32, below: Option<i64>) -> MessageSearch {
        MessageSearch {
            user: UserId(1),
            query: SearchQuery::parse("x").expect("query"),
            conversation: None,
            sender: None,
            after: None,
            before: None,
            has: None,
            limit,
            offset,
            below: below.map(MessageId),
            window: 3,
        }
    }

    /// Ids 10 down to 1, newest first; the even ones match better.
    fn found(from: i64) -> Vec<Candidate> {
        (1..=from)
            .rev()
            .map(|id| Candidate {
                id: MessageId(id),
                created_at: id,
                score: if id % 2 == 0 { 2.0 } else { 1.0 },
                length: 0.0,
                snippet: None,
            })
            .collect()
    }

    fn cut(s: &MessageSearch, found: Vec<Candidate>, more: bool) -> (Vec<i64>, Option<SearchCursor>) {
        let (page, next) = rank_and_cut(found, s, 3, more, |w| w.sort_by(by_rank));
        (page.iter().map(|c| c.id.0).collect(), next)
    }

    fn at(below: i64, skip: u32) -> Option<SearchCursor> {
        Some(SearchCursor { below: MessageId(below), skip })
    }

    #[test]
    fn windows_are_ranked_one_by_one_newest_window_first() {
        // Windows [10 9 8] [7 6 5] [4 3 2], each best (even) first, then newest.
        let all = cut(&search(0, 9, None), found(10).into_iter().take(9).collect(), true);
        assert_eq!(all, (vec![10, 8, 9, 6, 7, 5, 4, 2, 3], at(2, 0)));
        assert_eq!(cut(&search(0, 2, None), found(10).into_iter().take(3).collect(), true), (vec![10, 8], at(11, 2)));
        assert_eq!(cut(&search(2, 2, None), found(10).into_iter().take(6).collect(), true), (vec![9, 6], at(8, 1)));
        assert_eq!(cut(&search(0, 3, None), found(10).into_iter().take(3).collect(), true), (vec![10, 8, 9], at(8, 0)));
    }

    #[test]
    fn a_cursor_continues_where_the_page_ended() {
        // Below 8, skipping 1: windows [7 6 5] [4 3 2] from there.
        assert_eq!(
            cut(&search(1, 3, Some(8)), found(7).into_iter().take(6).collect(), true),
            (vec![7, 5, 4], at(5, 1))
        );
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        assert_eq!(cut(&search(0, 3, None), found(2), false), (vec![2, 1], None));
        assert_eq!(cut(&search(0, 3, None), found(3), false), (vec![2, 3, 1], None), "exactly full, nothing beyond");
        assert_eq!(cut(&search(3, 3, None), found(3), false), (vec![], None), "past the end");
    }
}
