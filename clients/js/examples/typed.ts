// A small typed program on the SDK: `tsc --noEmit` checks it in CI, so the types say what the
// SDK does (events by name, REST methods and bodies from the OpenAPI document).

import { createClient, memoryStore, type ChatMessageFrame, type Conversation, type Result } from 'parlor-sdk';

export async function greetEveryone(url: string, token: string): Promise<number> {
  const client = createClient({ url, getToken: () => token, store: memoryStore() });
  const seen: ChatMessageFrame[] = [];
  client.on('message', (frame) => seen.push(frame));
  client.on('typing', (frame) => console.log(`${frame.user_name} is typing: ${frame.is_typing}`));
  client.on('state', ({ state, detail }) => console.log(state, detail));
  client.on('sent', ({ entry, message }) => console.log(entry.client_id, 'stored as', message.id));
  await client.connect();

  const me: Result<'users_me'> = await client.api.usersMe();
  const page = await client.api.conversationsList({ query: { limit: 50 } });
  const conversations: Conversation[] = page.results;
  for (const conversation of conversations) {
    client.setCursor(conversation.id, conversation.last_event_seq);
    await client.send(conversation.id, `Hello from ${me.name}`);
  }
  const history = await client.api.messagesHistory(conversations[0].id, { query: { limit: 20 } });
  await client.api.messagesReact(history.results[0].id, { body: { emoji: '👋' } });
  await client.close();
  return seen.length;
}
