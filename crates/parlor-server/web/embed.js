// parlor embed: a "Chat with X" button for host pages (host-app mode).
//
//   <script src="https://chat.example.com/embed.js" data-token-url="/chat/token" defer></script>
//   <button data-parlor-chat-with="42">Chat with Bob</button>
//
// Clicking a [data-parlor-chat-with] element opens parlor in a panel at a corner of the page
// (full screen on phones) with the conversation with the host platform's user 42. The token is
// the host platform's own JWT for the signed-in user: `data-token` on the script tag, or
// `data-token-url`, a same-origin URL asked again whenever the token expires. Its contract:
// 200 {"token": "<JWT>"} (or the token as text) for a signed-in visitor; 401, 403, 204 or
// {"token": null} for a signed-out one (the page gets `parlor:signed-out`, the panel says to
// sign in, linking to `data-sign-in-url` if given); anything else is an error (`parlor:error`,
// the panel offers to try again).
//
// Options on the script tag: data-position (bottom-right, bottom-left, top-right, top-left),
// data-width and data-height (px), data-offset ("20" or "20,90": px from the corner's sides),
// data-preload="false" to load parlor only on the first open (then the unread badge starts
// then too). By default parlor loads hidden with the page, so `parlor:unread` events on window
// carry the unread count from page load. In code: window.parlor.open("42"), .open(), .close().
(() => {
  const script = document.currentScript;
  const base = new URL(script.src).origin;
  const options = script.dataset;
  const staticToken = options.token || null;
  const tokenUrl = options.tokenUrl || null;
  const [vertical, horizontal] = (options.position || 'bottom-right').split('-');
  const [offsetX, offsetY = offsetX] = (options.offset || '20').split(',').map((v) => Math.max(0, Number(v) || 0));
  const width = Math.max(280, Number(options.width) || 380);
  const height = Math.max(320, Number(options.height) || 600);
  let frame = null;
  let panel = null;
  let fallbackClose = null;
  let ready = false;
  let pending = null;

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** The token, or why there is none: {token} | {token: null, reason: 'signed-out'|'error'}. */
  async function token() {
    if (!tokenUrl) return staticToken ? { token: staticToken } : { token: null, reason: 'signed-out' };
    let response;
    try {
      response = await fetch(tokenUrl, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    } catch (error) {
      return { token: null, reason: 'error', status: 0, message: String(error) };
    }
    if (response.status === 401 || response.status === 403 || response.status === 204) return { token: null, reason: 'signed-out', status: response.status };
    if (!response.ok) return { token: null, reason: 'error', status: response.status };
    const text = (await response.text()).trim();
    let value = text;
    try { value = JSON.parse(text).token; } catch { /* the token as text */ }
    return typeof value === 'string' && value ? { token: value } : { token: null, reason: 'signed-out', status: response.status };
  }

  function post(message) {
    frame?.contentWindow?.postMessage(message, base);
  }

  async function sendToken() {
    const answer = await token();
    if (!answer.token) emit(answer.reason === 'signed-out' ? 'parlor:signed-out' : 'parlor:error', { status: answer.status, message: answer.message });
    post({ type: 'parlor:token', token: answer.token, reason: answer.reason, signInUrl: options.signInUrl || null });
  }

  function build() {
    const style = document.createElement('style');
    const side = (name, value) => `${name}:${value}px;`;
    style.textContent = `
      .parlor-panel{position:fixed;${side(vertical === 'top' ? 'top' : 'bottom', offsetY)}${side(horizontal === 'left' ? 'left' : 'right', offsetX)}
        width:min(${width}px,calc(100vw - ${offsetX * 2}px));height:min(${height}px,calc(100vh - ${offsetY * 2}px));z-index:2147483000;
        border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.3);background:#fff;display:flex;flex-direction:column}
      .parlor-panel[hidden]{display:none}
      .parlor-panel iframe{flex:1;border:0;width:100%}
      .parlor-fallback-close{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;border-radius:50%;
        background:rgba(0,0,0,.6);color:#fff;font:18px/1 sans-serif;cursor:pointer;z-index:1}
      @media (max-width:600px){.parlor-panel{inset:0;width:auto;height:auto;border-radius:0}}`;
    document.head.append(style);
    panel = document.createElement('div');
    panel.className = 'parlor-panel';
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', 'Chat');
    // Until parlor has loaded (and shows its own close button in its header), the panel needs one.
    fallbackClose = document.createElement('button');
    fallbackClose.className = 'parlor-fallback-close';
    fallbackClose.type = 'button';
    fallbackClose.setAttribute('aria-label', 'Close chat');
    fallbackClose.textContent = '×';
    fallbackClose.onclick = () => api.close();
    frame = document.createElement('iframe');
    frame.title = 'Chat';
    frame.src = `${base}/?embed=1`;
    frame.allow = 'clipboard-write; microphone; autoplay';
    panel.append(fallbackClose, frame);
    document.body.append(panel);
  }

  window.addEventListener('message', async (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
    const data = event.data || {};
    if (data.type === 'parlor:ready') {
      ready = true;
      fallbackClose?.remove();
      fallbackClose = null;
      post({ type: 'parlor:visibility', visible: !panel.hidden });
      await sendToken();
      if (pending) post({ type: 'parlor:open', with: pending });
      pending = null;
    } else if (data.type === 'parlor:need-token') {
      await sendToken();
    } else if (data.type === 'parlor:unread') {
      emit('parlor:unread', { count: data.count });
    } else if (data.type === 'parlor:close') {
      api.close();
    } else if (data.type === 'parlor:signed-out') {
      emit('parlor:signed-out', {});
    }
  });

  const api = {
    open(externalId) {
      if (!panel) build();
      panel.hidden = false;
      post({ type: 'parlor:visibility', visible: true });
      if (externalId == null) return;
      if (ready) post({ type: 'parlor:open', with: String(externalId) });
      else pending = String(externalId);
    },
    close() {
      if (!panel) return;
      panel.hidden = true;
      post({ type: 'parlor:visibility', visible: false });
    },
  };
  window.parlor = api;

  document.addEventListener('click', (event) => {
    const trigger = event.target.closest?.('[data-parlor-chat-with]');
    if (!trigger) return;
    event.preventDefault();
    api.open(trigger.dataset.parlorChatWith);
  });

  // Loaded hidden with the page, so the unread badge is right before anyone opens the panel.
  if (options.preload !== 'false') {
    if (document.body) build();
    else document.addEventListener('DOMContentLoaded', build, { once: true });
  }
})();
