//! When a socket is pinged, and when it is given up for dead; the same rule for parlor's sockets
//! and the seeds'. The socket's task ticks every `limits.heartbeat_secs`:
//!
//! - A socket that since the last tick both heard from its client (any frame: the client is
//!   alive) and wrote to it (any frame but a ping: proxies on the way saw traffic both ways) is
//!   not pinged. Active clients cost no heartbeat; idle ones are pinged every interval as ever.
//! - A socket that heard nothing for three ticks in a row is dropped, whatever was written to it
//!   meanwhile: writes to a peer that vanished succeed until the socket's buffers fill, so they
//!   prove nothing.
//! - A tick while the task is not reading the socket (its sends wait for storage at the bound of
//!   its pipeline) counts as heard: the client's frames, pongs included, wait unread, so its
//!   silence says nothing, and a slow database must not drop every busy sender.

/// What a tick asks of the socket's task.
#[derive(Debug, PartialEq, Eq)]
pub enum Beat {
    /// The socket was busy both ways: nothing to do.
    Quiet,
    Ping,
    /// Nothing heard for three ticks: drop the connection.
    Dead,
}

/// Ticks in a row without a frame from the client before it counts as gone.
const SILENT_TICKS: u8 = 3;

#[derive(Debug, Default)]
pub struct Heartbeat {
    heard: bool,
    said: bool,
    silent_ticks: u8,
}

impl Heartbeat {
    /// A frame (of any kind, pongs too) arrived from the client.
    pub fn heard(&mut self) {
        self.heard = true;
    }

    /// A frame was written to the client; not the heartbeat's own pings.
    pub fn said(&mut self) {
        self.said = true;
    }

    /// `reading`: whether the task reads the socket now.
    pub fn tick(&mut self, reading: bool) -> Beat {
        self.heard |= !reading;
        self.silent_ticks = if self.heard { 0 } else { self.silent_ticks.saturating_add(1) };
        let busy = self.heard && self.said;
        (self.heard, self.said) = (false, false);
        if self.silent_ticks >= SILENT_TICKS {
            Beat::Dead
        } else if busy {
            Beat::Quiet
        } else {
            Beat::Ping
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sockets_quiet_either_way_are_pinged_and_three_silent_ticks_end_one() {
        let mut beat = Heartbeat::default();
        assert_eq!(beat.tick(true), Beat::Ping, "a new socket nobody spoke on");
        beat.heard();
        beat.said();
        assert_eq!(beat.tick(true), Beat::Quiet, "busy both ways");
        beat.heard();
        assert_eq!(beat.tick(true), Beat::Ping, "the client spoke, the server did not");
        // A peer that vanished while the server kept writing to it.
        for _ in 0..2 {
            beat.said();
            assert_eq!(beat.tick(true), Beat::Ping);
        }
        beat.said();
        assert_eq!(beat.tick(true), Beat::Dead);
    }

    #[test]
    fn ticks_while_the_socket_is_not_read_are_not_silent() {
        let mut beat = Heartbeat::default();
        for _ in 0..10 {
            assert_eq!(beat.tick(false), Beat::Ping, "pinged, never given up, while nothing is read");
        }
        for _ in 0..2 {
            assert_eq!(beat.tick(true), Beat::Ping);
        }
        assert_eq!(beat.tick(true), Beat::Dead, "three silent ticks once it reads again");
    }
}
