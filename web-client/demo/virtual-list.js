// A virtualized list of variable-height rows. Only rows intersecting the viewport (plus an
// overscan margin) are in the DOM, and their elements are pooled and reused, so the page's DOM
// stays small whatever the history length. Heights are measured once per key and cached.

const DEFAULT_ESTIMATE = 44;

export class VirtualList {
  /**
   * @param {HTMLElement} viewport scrolling element
   * @param {HTMLElement} canvas positioned child whose height is the whole list's
   * @param {{keyOf: (item) => string, fill: (el: HTMLElement, item) => void, create: () => HTMLElement,
   *   onNearTop?: () => void, onNearBottom?: () => void, estimate?: number, overscanPx?: number,
   *   edgePx?: number, maxPool?: number}} options
   */
  constructor(viewport, canvas, options) {
    this.viewport = viewport;
    this.canvas = canvas;
    this.options = { estimate: DEFAULT_ESTIMATE, overscanPx: 120, edgePx: 120, maxPool: 8, ...options };
    this.items = [];
    this.offsets = [0];
    this.heights = new Map();
    this.rows = new Map(); // key → element currently in the DOM
    this.pool = [];
    this.scheduled = false;
    this.stickToBottom = true;
    viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  /** Replaces the items, keeping the first visible row where it was (or the bottom, when stuck there). */
  setItems(items) {
    const anchor = this.stickToBottom ? null : this.anchor();
    this.items = items;
    const keys = new Set(items.map(this.options.keyOf));
    for (const key of this.heights.keys()) {
      if (!keys.has(key)) this.heights.delete(key);
    }
    this.layout();
    this.render();
    if (this.stickToBottom) {
      this.scrollToBottom();
    } else if (anchor) {
      const index = this.indexOf(anchor.key);
      if (index >= 0) this.viewport.scrollTop = this.offsets[index] - anchor.delta;
    }
  }

  /** The item with this key changed (status, seq, edit, reactions): refill its row if it is on screen. */
  refresh(item) {
    const key = this.options.keyOf(item);
    const el = this.rows.get(key);
    if (!el) return;
    this.options.fill(el, item);
    this.remeasure([[key, el]]);
  }

  /** Refills every row on screen (what they show depends on something besides the item). */
  refreshVisible() {
    const byKey = new Map(this.items.map(item => [this.options.keyOf(item), item]));
    for (const [key, el] of this.rows) {
      const item = byKey.get(key);
      if (item) this.options.fill(el, item);
    }
    this.remeasure([...this.rows]);
  }

  /** A refilled row may have grown or shrunk (an edit, a reaction line): shift the rows below. */
  remeasure(entries) {
    const anchor = this.stickToBottom ? null : this.anchor();
    let changed = false;
    for (const [key, el] of entries) {
      const h = el.offsetHeight;
      if (this.heights.get(key) !== h) {
        this.heights.set(key, h);
        changed = true;
      }
    }
    if (!changed) return;
    this.layout();
    for (let i = 0; i < this.items.length; i++) {
      const el = this.rows.get(this.options.keyOf(this.items[i]));
      if (el) el.style.transform = `translateY(${this.offsets[i]}px)`;
    }
    if (this.stickToBottom) this.viewport.scrollTop = this.canvas.offsetHeight;
    else if (anchor) this.viewport.scrollTop = this.offsets[this.indexOf(anchor.key)] - anchor.delta;
    this.schedule();
  }

  scrollToBottom() {
    this.stickToBottom = true;
    this.viewport.scrollTop = this.canvas.offsetHeight;
    this.render();
  }

  domRowCount() {
    return this.rows.size;
  }

  anchor() {
    const top = this.viewport.scrollTop;
    const index = this.firstIndexBelow(top);
    if (index >= this.items.length) return null;
    return { key: this.options.keyOf(this.items[index]), delta: this.offsets[index] - top };
  }

  indexOf(key) {
    return this.items.findIndex(item => this.options.keyOf(item) === key);
  }

  layout() {
    const { keyOf, estimate } = this.options;
    const offsets = new Array(this.items.length + 1);
    offsets[0] = 0;
    for (let i = 0; i < this.items.length; i++) {
      offsets[i + 1] = offsets[i] + (this.heights.get(keyOf(this.items[i])) ?? estimate);
    }
    this.offsets = offsets;
    this.canvas.style.height = `${offsets[this.items.length]}px`;
  }

  /** Index of the first row whose bottom edge is below y (binary search over offsets). */
  firstIndexBelow(y) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.viewport;
    this.stickToBottom = scrollHeight - scrollTop - clientHeight < 4;
    this.schedule();
    if (scrollTop < this.options.edgePx) this.options.onNearTop?.();
    if (scrollHeight - scrollTop - clientHeight < this.options.edgePx) this.options.onNearBottom?.();
  }

  render() {
    const { keyOf, fill, overscanPx } = this.options;
    const top = this.viewport.scrollTop - overscanPx;
    const bottom = this.viewport.scrollTop + this.viewport.clientHeight + overscanPx;
    const first = this.firstIndexBelow(Math.max(0, top));
    const visible = new Set();
    const fresh = [];
    for (let i = first; i < this.items.length && this.offsets[i] < bottom; i++) {
      const item = this.items[i];
      const key = keyOf(item);
      visible.add(key);
      let el = this.rows.get(key);
      if (!el) {
        el = this.pool.pop() ?? this.options.create();
        this.rows.set(key, el);
        fill(el, item);
        this.canvas.appendChild(el);
        fresh.push([key, el]);
      }
      el.style.transform = `translateY(${this.offsets[i]}px)`;
    }
    for (const [key, el] of this.rows) {
      if (!visible.has(key)) this.release(key, el);
    }
    // Measure new rows once; re-lay out if estimates were off (one extra pass, no loop).
    let changed = false;
    for (const [key, el] of fresh) {
      const h = el.offsetHeight;
      if (this.heights.get(key) !== h) {
        this.heights.set(key, h);
        changed = true;
      }
    }
    if (changed) {
      this.layout();
      for (let i = first; i < this.items.length; i++) {
        const el = this.rows.get(keyOf(this.items[i]));
        if (el) el.style.transform = `translateY(${this.offsets[i]}px)`;
      }
      if (this.stickToBottom) this.viewport.scrollTop = this.canvas.offsetHeight;
    }
  }

  release(key, el) {
    this.rows.delete(key);
    el.remove();
    if (this.pool.length < this.options.maxPool) this.pool.push(el);
  }
}
