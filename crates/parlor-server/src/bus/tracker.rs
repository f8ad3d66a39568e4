//! What this node has delivered of each conversation's event log, so events arriving from the
//! bus are told apart: new, a duplicate, or past a gap that must be read from the database first.
//! Pure bookkeeping, no IO: `redis.rs` decides what to read and deliver from its answers.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use parlor_core::{ConversationId, Seq};

/// Out-of-order seqs remembered above a gap, per conversation; beyond that the oldest are
/// forgotten (at worst a repair delivers them again and connections drop the duplicates).
const MAX_AHEAD: usize = 1024;

#[derive(Debug, Default)]
pub struct Tracker {
    tracks: HashMap<ConversationId, Track>,
}

#[derive(Debug)]
struct Track {
    /// Every event up to this one has been delivered to this node's connections.
    last: Seq,
    /// Delivered past `last`, while the events between are still missing.
    ahead: BTreeSet<Seq>,
    /// When an event of the conversation was last seen, for periodic repairs.
    touched: Instant,
}

/// What to do with a logged event that arrived from another node.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Deliver it; it is recorded as delivered.
    New,
    /// Already delivered (by this node, a repair, or an earlier copy): drop it.
    Duplicate,
    /// Events after `after` are missing before it: read and deliver them, then this one.
    Gap { after: Seq },
}

impl Tracker {
    /// Notes an event this node delivered itself (published here or repaired): true when it
    /// was not delivered before. Starts tracking the conversation at `seq` when untracked.
    pub fn delivered(&mut self, id: ConversationId, seq: Seq) -> bool {
        let now = Instant::now();
        let track = match self.tracks.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(Track { last: seq, ahead: BTreeSet::new(), touched: now });
                return true;
            }
            Entry::Occupied(entry) => entry.into_mut(),
        };
        track.touched = now;
        if seq <= track.last || track.ahead.contains(&seq) {
            return false;
        }
        if seq == track.last.next() {
            track.last = seq;
            track.absorb();
        } else {
            track.ahead.insert(seq);
            if track.ahead.len() > MAX_AHEAD {
                track.ahead.pop_first();
            }
        }
        true
    }

    /// Classifies an event from another node. `listening`: whether a member has a connection
    /// here, which is when an untracked conversation starts being tracked.
    pub fn arrived(&mut self, id: ConversationId, seq: Seq, listening: bool) -> Arrival {
        let Some(track) = self.tracks.get_mut(&id) else {
            if listening {
                self.tracks.insert(id, Track { last: seq, ahead: BTreeSet::new(), touched: Instant::now() });
            }
            return Arrival::New;
        };
        track.touched = Instant::now();
        if seq <= track.last || track.ahead.contains(&seq) {
            Arrival::Duplicate
        } else if seq == track.last.next() {
            track.last = seq;
            track.absorb();
            Arrival::New
        } else {
            Arrival::Gap { after: track.last }
        }
    }

    /// Gives up on the events before `seq` (the log could not be read, or too many are
    /// missing): connections fill or resync that gap themselves when `seq` reaches them.
    pub fn skip_to(&mut self, id: ConversationId, seq: Seq) {
        if let Some(track) = self.tracks.get_mut(&id)
            && track.last < seq
        {
            track.last = seq;
            track.ahead.retain(|s| *s > seq);
            track.absorb();
        }
    }

    /// The newest event seq delivered without a gap, when tracked.
    #[cfg(test)]
    pub fn position(&self, id: ConversationId) -> Option<Seq> {
        self.tracks.get(&id).map(|t| t.last)
    }

    /// Conversations to check against the database: all of them, or those with an event in
    /// the last `window`. Conversations idle for longer than `forget_after` are dropped.
    pub fn due(&mut self, window: Option<Duration>, forget_after: Duration) -> Vec<(ConversationId, Seq)> {
        let now = Instant::now();
        self.tracks.retain(|_, t| now.duration_since(t.touched) < forget_after);
        self.tracks
            .iter()
            .filter(|(_, t)| window.is_none_or(|w| now.duration_since(t.touched) < w))
            .map(|(id, t)| (*id, t.last))
            .collect()
    }

    /// Stops tracking a conversation nobody here listens to any more.
    pub fn forget(&mut self, id: ConversationId) {
        self.tracks.remove(&id);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.tracks.len()
    }
}

impl Track {
    /// Moves `last` over the delivered seqs that follow it.
    fn absorb(&mut self) {
        while self.ahead.first().is_some_and(|s| *s <= self.last.next()) {
            if let Some(s) = self.ahead.pop_first() {
                self.last = self.last.max(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: ConversationId = ConversationId(1);

    #[test]
    fn in_order_events_are_new_and_repeats_are_duplicates() {
        let mut t = Tracker::default();
        assert_eq!(t.arrived(C, Seq(5), true), Arrival::New);
        assert_eq!(t.arrived(C, Seq(6), true), Arrival::New);
        assert_eq!(t.arrived(C, Seq(6), true), Arrival::Duplicate);
        assert_eq!(t.arrived(C, Seq(4), true), Arrival::Duplicate);
        assert_eq!(t.position(C), Some(Seq(6)));
    }

    #[test]
    fn a_gap_is_reported_and_filled_by_repairs() {
        let mut t = Tracker::default();
        t.arrived(C, Seq(1), true);
        assert_eq!(t.arrived(C, Seq(4), true), Arrival::Gap { after: Seq(1) });
        assert!(t.delivered(C, Seq(2)));
        assert!(t.delivered(C, Seq(3)));
        assert!(t.delivered(C, Seq(4)));
        assert!(!t.delivered(C, Seq(3)), "a repeat");
        assert_eq!(t.arrived(C, Seq(4), true), Arrival::Duplicate, "the signal after its repair");
        assert_eq!(t.position(C), Some(Seq(4)));
    }

    #[test]
    fn events_published_here_out_of_order_close_the_gap_later() {
        let mut t = Tracker::default();
        t.delivered(C, Seq(1));
        assert!(t.delivered(C, Seq(3)), "published here first");
        assert_eq!(t.position(C), Some(Seq(1)));
        assert_eq!(t.arrived(C, Seq(3), true), Arrival::Duplicate);
        assert_eq!(t.arrived(C, Seq(2), true), Arrival::New);
        assert_eq!(t.position(C), Some(Seq(3)), "2 joined 3");
    }

    #[test]
    fn untracked_conversations_without_listeners_stay_untracked() {
        let mut t = Tracker::default();
        assert_eq!(t.arrived(C, Seq(9), false), Arrival::New);
        assert_eq!(t.position(C), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn skipping_gives_up_on_a_gap() {
        let mut t = Tracker::default();
        t.arrived(C, Seq(1), true);
        t.delivered(C, Seq(10));
        t.skip_to(C, Seq(8));
        assert_eq!(t.position(C), Some(Seq(8)));
        assert_eq!(t.arrived(C, Seq(9), true), Arrival::New);
        assert_eq!(t.position(C), Some(Seq(10)));
    }

    #[test]
    fn idle_conversations_are_not_due_and_eventually_forgotten() {
        let mut t = Tracker::default();
        t.arrived(C, Seq(1), true);
        assert_eq!(t.due(Some(Duration::from_secs(60)), Duration::from_secs(600)), vec![(C, Seq(1))]);
        assert_eq!(t.due(Some(Duration::ZERO), Duration::from_secs(600)), vec![]);
        assert_eq!(t.due(None, Duration::ZERO), vec![]);
        assert_eq!(t.len(), 0);
    }
}
