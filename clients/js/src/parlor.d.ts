// Types of parlor's client SDK. REST types come from the OpenAPI document (openapi.d.ts,
// endpoints.d.ts, generated); the WebSocket frames (protocol §5.3) are written here.

import type { components } from './openapi';
import type { Endpoints } from './endpoints';

export type { components, paths, operations } from './openapi';
export type { Endpoints, Result, Body, Query } from './endpoints';
export { endpoints } from './endpoints';

type Schemas = components['schemas'];
export type Message = Schemas['MessageView'];
export type Conversation = Schemas['ConversationView'];
export type User = Schemas['UserView'];
export type NotificationView = Schemas['NotificationView'];
export type ReactionView = Schemas['ReactionView'];

/** A stored message, live (`seq` is the event seq, `message_seq` the message number). */
export interface ChatMessageFrame {
  type: 'chat_message';
  conversation_id: number;
  seq: number;
  message_id: number;
  message_seq: number;
  sender_id: number;
  sender_name: string;
  sender_avatar: string | null;
  content: string;
  created_at: string;
  kind: string;
  attachment: Schemas['AttachmentView'] | null;
  preview: string;
  system?: Schemas['SystemView'];
  reply_to: Schemas['ReplyView'] | null;
  client_id: string | null;
  edited_at: string | null;
  deleted: boolean;
  forwarded: boolean;
  reactions: ReactionView[];
}
export interface MessageEditedFrame { type: 'message_edited'; conversation_id: number; seq: number; message_id: number; message_seq: number; content: string; edited_at: string | null }
export interface MessageDeletedFrame { type: 'message_deleted'; conversation_id: number; seq: number; message_id: number; message_seq: number }
export interface ReactionUpdatedFrame { type: 'reaction_updated'; conversation_id: number; seq: number; message_id: number; user_id: number; emoji: string; added: boolean; reactions: ReactionView[] }
export interface MessagesDeliveredFrame { type: 'messages_delivered'; conversation_id: number; seq: number; user_id: number; up_to_seq: number }
export interface MessagesReadFrame { type: 'messages_read'; conversation_id: number; seq: number; user_id: number; message_ids: number[]; up_to_seq: number; read_at: string }
export interface ConversationUpdatedFrame { type: 'conversation_updated'; conversation_id: number; seq: number; title: string | null; avatar: string | null; archived: boolean }
export interface AckFrame { type: 'ack'; conversation_id: number; client_id: string | null; message_id: number; message_seq: number; seq: number; created_at: string; duplicate: boolean }
export interface TypingFrame { type: 'typing_indicator'; conversation_id: number; user_id: number; user_name: string; is_typing: boolean }
export interface UserStatusFrame { type: 'user_status_change'; user_id: number; is_online: boolean; last_seen?: string }
export interface NotificationFrame { type: 'notification'; notification: NotificationView; unread_count: number }
export interface ResyncRequiredFrame { type: 'resync_required'; conversation_id: number; latest_seq: number }
export interface ResumedFrame { type: 'resumed'; replayed: number }
export interface ConnectionEstablishedFrame { type: 'connection_established'; message: string; protocol: number; user_id: number; conversation_id?: number }
export interface ErrorFrame { type: 'error'; code: string; message: string }

export type ServerFrame = ChatMessageFrame | MessageEditedFrame | MessageDeletedFrame | ReactionUpdatedFrame
  | MessagesDeliveredFrame | MessagesReadFrame | ConversationUpdatedFrame | AckFrame | TypingFrame | UserStatusFrame
  | NotificationFrame | ResyncRequiredFrame | ResumedFrame | ConnectionEstablishedFrame | ErrorFrame;

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'closed';

/** An outbox entry: kept in the store with its client_id until the server has the message. */
export interface OutboxEntry {
  client_id: string;
  conversation_id: number;
  content: string;
  reply_to: number | null;
  created_at: string;
  status: 'pending' | 'failed';
  error: string | null;
  [field: string]: unknown;
}

/** The client's events and what each listener receives. */
export interface ClientEvents {
  message: ChatMessageFrame;
  message_updated: MessageEditedFrame;
  message_deleted: MessageDeletedFrame;
  reaction: ReactionUpdatedFrame;
  read: MessagesReadFrame;
  delivered: MessagesDeliveredFrame;
  conversation_updated: ConversationUpdatedFrame;
  typing: TypingFrame;
  presence: UserStatusFrame;
  notification: NotificationFrame;
  ack: AckFrame;
  resync_required: ResyncRequiredFrame;
  resumed: ResumedFrame;
  connected: ConnectionEstablishedFrame;
  error: ErrorFrame;
  /** Every frame, whatever its type. */
  frame: ServerFrame;
  /** `detail`: 'signed-out', 'disabled' or 'stopped' when closed; a reason when offline. */
  state: { state: ConnectionState; detail: string | null };
  /** The server stored an outbox entry (`message` is its answer). */
  sent: { entry: OutboxEntry; message: Message };
  /** The server refused an outbox entry (4xx); it stays as 'failed' until retried or discarded. */
  failed: { entry: OutboxEntry; error: ApiError };
  outbox: { conversationId: number | null };
  store_error: unknown;
}

/** Where cursors and the outbox are kept: any three async methods over JSON values. */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}
export function memoryStore(): KeyValueStore;
export function localStorageStore(options?: { prefix?: string; storage?: Storage }): KeyValueStore;
export function indexedDBStore(options?: { name?: string; indexedDB?: IDBFactory }): KeyValueStore;

/** The WebSocket constructor: the browser's, or one of the same shape (Node 20: `ws`). */
export type WebSocketLike = new (url: string) => {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
};

export interface ClientOptions {
  /** parlor's base URL (in a browser, the page's origin by default). */
  url?: string;
  /** The access token: the platform's (host-app mode) or parlor's (`passwordAuth`); `refresh` is
   * true after the last one was refused. */
  getToken: (options: { refresh: boolean }) => Promise<string> | string;
  /** Where cursors and the outbox are kept; memoryStore() by default. */
  store?: KeyValueStore;
  WebSocket?: WebSocketLike;
  fetch?: typeof fetch;
  /** The app keeps resume cursors itself: called for every resume. */
  cursors?: (userId: number) => Record<string, number> | Promise<Record<string, number>>;
  /** This user's key in the store: their id by default, asked with GET /api/users/me/ on
   * connect() or the first send(). Give it to send while offline from the start. */
  namespace?: string;
  /** How soon an entry the server could not take (network, 5xx, 429) is tried again. */
  retryMs?: number;
  /** Reconnect delays: doubling from initialMs to maxMs, each drawn from its upper half. */
  backoff?: { initialMs?: number; maxMs?: number };
}

export declare class ApiError extends Error {
  status: number;
  code: string | null;
  body: unknown;
  retryAfter: number | null;
}

export declare class ParlorClient {
  /** The same as createClient(options). */
  constructor(options: ClientOptions);
  /** One method per REST operation, typed from the OpenAPI document. */
  readonly api: Endpoints;
  readonly state: ConnectionState;
  on<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(type: K, listener: (payload: ClientEvents[K]) => void): void;
  /** Opens the socket; resolves once resumed or closed by close(); rejects if the credentials
   * are refused or the account is disabled. */
  connect(): Promise<void>;
  /** Queues a message in the outbox: stored exactly once, across reconnects and reloads. */
  send(conversationId: number, content: string, options?: { replyTo?: number | null; [field: string]: unknown }): Promise<OutboxEntry>;
  typing(conversationId: number, isTyping?: boolean): boolean;
  markRead(conversationId: number, messageIds?: number[]): boolean;
  focus(conversationId: number | null): boolean;
  sendFrame(frame: { type: string; [field: string]: unknown }): boolean;
  request(method: string, path: string, init?: { query?: Record<string, unknown>; body?: unknown; auth?: boolean; headers?: Record<string, string>; raw?: boolean; signal?: AbortSignal }): Promise<unknown>;
  /** The resume cursors: {conversation_id: last event seq applied}. */
  cursors(): Record<string, number>;
  setCursor(conversationId: number, seq: number): void;
  flushCursors(): Promise<void>;
  readonly outbox: {
    pending(conversationId?: number): OutboxEntry[];
    retry(clientId: string): Promise<void>;
    discard(clientId: string): Promise<void>;
  };
  close(): Promise<void>;
}

export function createClient(options: ClientOptions): ParlorClient;

export interface PasswordAuth {
  login(username: string, password: string): Promise<{ access: string; refresh: string; user: User }>;
  register(fields: { username: string; password: string; name?: string }): Promise<{ access: string; refresh: string; user: User }>;
  user(): Promise<User | null>;
  signOut(): Promise<void>;
  getToken(options?: { refresh?: boolean }): Promise<string>;
}
/** Standalone mode: parlor's own accounts, tokens kept in `store`. */
export function passwordAuth(options?: { url?: string; store?: KeyValueStore; key?: string; fetch?: typeof fetch }): PasswordAuth;

export function expiresIn(token: string): number;
export function newClientId(): string;
export declare const EVENTS: Record<string, keyof ClientEvents>;
