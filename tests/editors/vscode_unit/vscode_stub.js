// The few pieces of the `vscode` API the status item uses, recorded instead of drawn:
// the status item's text, tooltip and background are read back by status_driver.js.
"use strict";

class EventEmitter {
  constructor() {
    this.listeners = [];
    this.event = (listener) => {
      this.listeners.push(listener);
      return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    };
  }
  fire(value) {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  dispose() {
    this.listeners = [];
  }
}

class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}

const items = [];

module.exports = {
  EventEmitter,
  ThemeColor,
  StatusBarAlignment: { Left: 1, Right: 2 },
  window: {
    items,
    createStatusBarItem(id, alignment, priority) {
      const item = { id, alignment, priority, text: "", tooltip: "", shown: false };
      item.show = () => (item.shown = true);
      item.dispose = () => undefined;
      items.push(item);
      return item;
    },
  },
};
