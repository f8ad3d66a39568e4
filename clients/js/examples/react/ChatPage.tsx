'use client';
// A chat page for a React app (a Next.js App Router page as it is) on parlor's JS SDK: it asks
// the platform's token view for a token, opens "Chat with <user>", shows the conversation live
// and sends through the SDK's outbox (kept in IndexedDB, so nothing written is lost on a reload).
// test/react.test.mjs renders it in Chromium against a real parlor.

import React, { useEffect, useMemo, useState } from 'react';
import { createClient, indexedDBStore, type ConnectionState } from 'parlor-sdk';

type Line = { id: number; sender: string; content: string };

export default function ChatPage({ parlorUrl, withUser }: { parlorUrl: string; withUser: string }) {
  const client = useMemo(() => createClient({
    url: parlorUrl,
    // Your token view (docs/integrate.md §4): a parlor token for the signed-in user.
    getToken: async () => (await (await fetch('/chat/token/', { credentials: 'include' })).json()).token,
    store: indexedDBStore(),
  }), [parlorUrl]);
  const [state, setState] = useState<ConnectionState | 'failed'>('connecting');
  const [conversationId, setConversationId] = useState<number | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [draft, setDraft] = useState('');

  useEffect(() => {
    let id: number | null = null;
    const add = (line: Line) => setLines((all) => (all.some((l) => l.id === line.id) ? all : [...all, line]));
    const offState = client.on('state', ({ state }) => setState(state));
    const offMessage = client.on('message', (m) => {
      if (m.conversation_id === id) add({ id: m.message_id, sender: m.sender_name, content: m.content });
    });
    (async () => {
      const conversation = await client.api.conversationsOpenDirect({ body: { external_id: withUser } });
      const page = await client.api.messagesHistory(conversation.id, { query: { limit: 50 } });
      id = conversation.id;
      client.setCursor(conversation.id, conversation.last_event_seq);
      setConversationId(conversation.id);
      page.results.slice().reverse().forEach((m) => add({ id: m.id, sender: m.sender_name, content: m.content }));
      await client.connect();
    })().catch(() => setState('failed')); // signed out on your platform, or parlor refused the token
    return () => { offState(); offMessage(); client.close(); };
  }, [client, withUser]);

  const send = (event: React.FormEvent) => {
    event.preventDefault();
    if (conversationId === null || !draft.trim()) return;
    client.send(conversationId, draft);
    setDraft('');
  };

  return (
    <main>
      <p role="status">{state === 'online' ? 'Connected' : state === 'failed' ? 'Chat is unavailable' : 'Connecting…'}</p>
      <ol aria-label="Messages">
        {lines.map((line) => <li key={line.id}><b>{line.sender}</b> {line.content}</li>)}
      </ol>
      <form onSubmit={send}>
        <input aria-label="Message" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit" disabled={conversationId === null}>Send</button>
      </form>
    </main>
  );
}
