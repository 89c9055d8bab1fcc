// Building DOM from data. Text always goes in through textContent (never innerHTML), so a file
// named "<img onerror=…>.jpg" is shown as the name it is.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function setProgress(bar, fraction) {
  const percent = Math.max(0, Math.min(100, fraction * 100));
  bar.firstElementChild.style.width = `${percent}%`;
  bar.setAttribute("aria-valuenow", String(Math.round(percent)));
}

// A tab list driven by the keyboard as WAI-ARIA describes: arrows move, Home/End jump, the
// selected tab alone is in the tab order. `onSelect(tab)` runs when the selection changes.
export function tablist(list, onSelect) {
  const tabs = () => $$('[role="tab"]', list).filter((tab) => !tab.hidden);
  const select = (tab, focus = false) => {
    for (const other of tabs()) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
    }
    if (focus) tab.focus();
    onSelect(tab);
  };
  list.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab);
  });
  list.addEventListener("keydown", (event) => {
    const all = tabs();
    const index = all.indexOf(document.activeElement);
    if (index < 0) return;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: all.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(all[(next + all.length) % all.length], true);
  });
  return { select, selected: () => tabs().find((tab) => tab.getAttribute("aria-selected") === "true") };
}
