// Writing: the text box (Enter sends, Shift+Enter is a new line), typing indicators, replying,
// editing, @mention suggestions, the emoji picker, voice notes (recorder.js), and attachments by
// paperclip, drag and drop, or paste.

import { icon } from './icons.js';
import { patch } from './api.js';
import { store } from './store.js';
import { el, fileSize, fill } from './util.js';
import { attachDialog } from './dialogs.js';
import { toast, toastError } from './toast.js';
import { MentionSuggestions } from './mentions.js';
import { emojiPicker } from './emoji.js';
import { VoiceRecorder } from './recorder.js';

const TYPING_IDLE_MS = 3000;

export class Composer {
  constructor({ send, chat }) {
    this.sendFrame = send;
    this.chat = chat;
    this.replying = null;
    this.editing = null;
    this.typingSent = false;
    this.typingTimer = null;
    this.bar = el('div', { class: 'composer-bar', hidden: true });
    this.input = el('textarea', {
      class: 'composer-input', rows: 1, placeholder: 'Write a message…', 'aria-label': 'Message',
      oninput: () => { this.autosize(); this.onTyping(); },
      onkeydown: (e) => this.onKey(e),
      onpaste: (e) => this.onPaste(e),
    });
    this.file = el('input', { type: 'file', hidden: true, onchange: () => { const f = this.file.files[0]; this.file.value = ''; if (f) this.attach(f); } });
    this.clip = el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Attach a file', title: 'Attach a file', onclick: () => this.file.click() }, icon('clip'));
    this.submit = el('button', { class: 'send-btn', type: 'submit', 'aria-label': 'Send' }, icon('send'));
    this.emoji = el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Insert an emoji', title: 'Emoji', onclick: () => emojiPicker(this.emoji, (e) => this.insert(e)) }, icon('smile'));
    this.mentions = new MentionSuggestions(this.input, () => store.conversations.get(this.chat.id));
    this.recorder = new VoiceRecorder({
      conversation: () => this.chat.id,
      onActive: (active) => { this.form.hidden = active || this.disabled; this.recorder.node.hidden = !active; },
    });
    this.notice = el('p', { class: 'composer-notice', hidden: true });
    this.form = el('form', { class: 'composer-row', onsubmit: (e) => { e.preventDefault(); this.submitText(); } },
      this.clip, this.file, this.emoji, el('div', { class: 'composer-field' }, this.mentions.node, this.input), this.recorder.button, this.submit);
    this.node = el('div', { class: 'composer' }, this.bar, this.form, this.recorder.node, this.notice);
    // Drop files anywhere on the chat pane.
    queueMicrotask(() => {
      const pane = chat.pane;
      pane.addEventListener('dragover', (e) => { if (e.dataTransfer?.types.includes('Files')) { e.preventDefault(); pane.classList.add('is-dropping'); } });
      pane.addEventListener('dragleave', (e) => { if (e.target === pane || !pane.contains(e.relatedTarget)) pane.classList.remove('is-dropping'); });
      pane.addEventListener('drop', (e) => {
        pane.classList.remove('is-dropping');
        const f = e.dataTransfer?.files?.[0];
        if (f) { e.preventDefault(); this.attach(f); }
      });
    });
  }

  focus() {
    if (matchMedia('(pointer: fine)').matches) this.input.focus();
  }

  reset() {
    this.stopTyping();
    this.mentions.close();
    this.replying = null;
    this.editing = null;
    this.input.value = '';
    this.autosize();
    this.renderBar();
  }

  /** Puts text at the caret (an emoji from the picker). */
  insert(text) {
    const start = this.input.selectionStart ?? this.input.value.length;
    const end = this.input.selectionEnd ?? start;
    this.input.value = this.input.value.slice(0, start) + text + this.input.value.slice(end);
    this.input.setSelectionRange(start + text.length, start + text.length);
    this.input.focus();
    this.autosize();
  }

  setDisabled(disabled, why) {
    this.disabled = disabled;
    if (disabled && this.recorder.state !== 'idle') this.recorder.cancel();
    this.form.hidden = disabled;
    this.notice.hidden = !disabled;
    this.notice.textContent = disabled ? why : '';
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  onKey(event) {
    if (this.mentions.onKey(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submitText();
    } else if (event.key === 'Escape' && (this.replying || this.editing)) {
      this.reset();
    } else if (event.key === 'ArrowUp' && !this.input.value) {
      // Like most chat apps: arrow up in an empty box edits your last message.
      const h = store.historyOf(this.chat.id);
      const last = [...h.items].reverse().find((m) => m.sender_id === store.me.id && !m.deleted && m.kind !== 'system' && !m.attachment);
      if (last) { event.preventDefault(); this.edit(last); }
    }
  }

  onTyping() {
    if (this.editing || !this.chat.id) return;
    if (!this.typingSent && this.input.value.trim()) {
      this.typingSent = this.sendFrame({ type: 'typing_indicator', conversation_id: this.chat.id, is_typing: true });
      this.typingConversation = this.chat.id;
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingSent) this.sendFrame({ type: 'typing_indicator', conversation_id: this.typingConversation, is_typing: false });
    this.typingSent = false;
  }

  replyTo(message) {
    this.editing = null;
    this.replying = message;
    this.renderBar();
    this.input.focus();
  }

  edit(message) {
    this.replying = null;
    this.editing = message;
    this.input.value = message.content;
    this.autosize();
    this.renderBar();
    this.input.focus();
  }

  renderBar() {
    const subject = this.replying || this.editing;
    this.bar.hidden = !subject;
    if (!subject) return;
    fill(this.bar,
      el('div', { class: 'bar-text' },
        el('strong', {}, this.editing ? 'Editing message' : `Replying to ${subject.sender_name}`),
        el('span', {}, subject.content || subject.preview || '')),
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': this.editing ? 'Cancel editing' : 'Cancel reply', onclick: () => this.reset() }, icon('close', 18)));
  }

  async submitText() {
    const content = this.input.value;
    if (!content.trim() || !this.chat.id) return;
    if ([...content].length > store.limits.max_message_chars) {
      toast(`Messages can be at most ${store.limits.max_message_chars} characters.`, { kind: 'error' });
      return;
    }
    if (this.editing) {
      const message = this.editing;
      try {
        await patch(`/api/chat/messages/${message.id}/`, { content });
        store.patchMessage(message.conversation_id, message.id, { content, edited_at: new Date().toISOString() });
        this.reset();
      } catch (error) {
        toastError(error, 'Edit failed');
      }
      return;
    }
    store.send(this.chat.id, content, this.replying);
    this.chat.stickToBottom = true;
    this.reset();
    this.input.focus();
  }

  onPaste(event) {
    const f = [...(event.clipboardData?.files || [])][0];
    if (f) {
      event.preventDefault();
      this.attach(f);
    }
  }

  attach(file) {
    if (!this.chat.id) return;
    if (file.size > store.limits.max_upload_bytes) {
      toast(`${file.name} is larger than the ${fileSize(store.limits.max_upload_bytes)} limit for files.`, { kind: 'error' });
      return;
    }
    if (!store.online) {
      toast('You are offline: files can be sent once the connection is back.', { kind: 'error' });
      return;
    }
    attachDialog(this.chat.id, file, this.input.value).then((sent) => {
      if (sent) { this.input.value = ''; this.autosize(); this.chat.stickToBottom = true; }
    }, (error) => toastError(error, 'Upload failed'));
  }
}
