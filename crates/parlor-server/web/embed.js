// parlor embed: a "Chat with X" button for host pages (host-app mode).
//
//   <script src="https://chat.example.com/embed.js" data-token-url="/chat/token" defer></script>
//   <button data-parlor-chat-with="42">Chat with Bob</button>
//
// Clicking a [data-parlor-chat-with] element opens parlor in a panel at the corner of the page
// (full screen on phones) with the conversation with the host platform's user 42. The token is
// the host platform's own JWT for the signed-in user: `data-token` on the script tag, or
// `data-token-url`, a same-origin URL answering {"token": "..."} that is asked again whenever
// the token expires. `window.parlor.open("42")` and `window.parlor.close()` do the same from
// code; `parlor:unread` events on window carry the unread count for a badge.
(() => {
  const script = document.currentScript;
  const base = new URL(script.src).origin;
  const staticToken = script.dataset.token || null;
  const tokenUrl = script.dataset.tokenUrl || null;
  let frame = null;
  let panel = null;
  let ready = false;
  let pending = null;

  async function token() {
    if (!tokenUrl) return staticToken;
    const response = await fetch(tokenUrl, { credentials: 'same-origin' });
    if (!response.ok) return null;
    const text = await response.text();
    try { return JSON.parse(text).token; } catch { return text.trim(); }
  }

  function post(message) {
    frame.contentWindow.postMessage(message, base);
  }

  function build() {
    const style = document.createElement('style');
    style.textContent = `
      .parlor-panel{position:fixed;right:20px;bottom:20px;width:380px;height:min(600px,calc(100vh - 40px));z-index:2147483000;
        border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.3);background:#fff;display:flex;flex-direction:column}
      .parlor-panel[hidden]{display:none}
      .parlor-panel iframe{flex:1;border:0;width:100%}
      .parlor-close{position:absolute;top:8px;right:8px;width:32px;height:32px;border:0;border-radius:50%;
        background:rgba(0,0,0,.55);color:#fff;font-size:18px;cursor:pointer;z-index:1}
      @media (max-width:600px){.parlor-panel{inset:0;width:auto;height:auto;border-radius:0}}`;
    document.head.append(style);
    panel = document.createElement('div');
    panel.className = 'parlor-panel';
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', 'Chat');
    const close = document.createElement('button');
    close.className = 'parlor-close';
    close.type = 'button';
    close.setAttribute('aria-label', 'Close chat');
    close.textContent = '×';
    close.onclick = () => api.close();
    frame = document.createElement('iframe');
    frame.title = 'Chat';
    frame.src = `${base}/?embed=1`;
    frame.allow = 'clipboard-write';
    panel.append(close, frame);
    document.body.append(panel);
  }

  window.addEventListener('message', async (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
    const data = event.data || {};
    if (data.type === 'parlor:ready' || data.type === 'parlor:need-token') {
      post({ type: 'parlor:token', token: await token() });
      if (data.type === 'parlor:ready') {
        ready = true;
        if (pending) post({ type: 'parlor:open', with: pending });
        pending = null;
      }
    } else if (data.type === 'parlor:unread') {
      window.dispatchEvent(new CustomEvent('parlor:unread', { detail: { count: data.count } }));
    }
  });

  const api = {
    open(externalId) {
      if (!panel) build();
      panel.hidden = false;
      if (externalId == null) return;
      if (ready) post({ type: 'parlor:open', with: String(externalId) });
      else pending = String(externalId);
    },
    close() {
      if (panel) panel.hidden = true;
    },
  };
  window.parlor = api;

  document.addEventListener('click', (event) => {
    const trigger = event.target.closest?.('[data-parlor-chat-with]');
    if (!trigger) return;
    event.preventDefault();
    api.open(trigger.dataset.parlorChatWith);
  });
})();
