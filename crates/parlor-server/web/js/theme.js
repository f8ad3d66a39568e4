// Light and dark themes: the system's choice until the user picks one with the toggle.

const media = matchMedia('(prefers-color-scheme: dark)');

export function applyTheme() {
  const chosen = localStorage.getItem('parlor.theme');
  document.documentElement.dataset.theme = chosen || (media.matches ? 'dark' : 'light');
}

export function toggleTheme() {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('parlor.theme', next);
  applyTheme();
}

media.addEventListener('change', applyTheme);
