// Person and department pickers: a search box with chips in place of <select data-picker>.
// The native <select> stays in the form (hidden) and holds the chosen options, so the form posts
// exactly as before. Search asks the server (name, department, pinyin initials such as "zm").
(function () {
  "use strict";

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, wait);
    };
  }

  function enhance(select) {
    if (select.dataset.pickerReady) { return; }
    select.dataset.pickerReady = "1";
    var multiple = select.multiple;
    var url = select.dataset.pickerUrl;
    var wrapper = document.createElement("div");
    wrapper.className = "picker";
    var chips = document.createElement("ul");
    chips.className = "picker-chips";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "picker-input";
    input.autocomplete = "off";
    input.id = (select.id || select.name) + "_search";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.placeholder = select.dataset.pickerPlaceholder || "";
    var results = document.createElement("ul");
    results.className = "picker-results";
    results.id = input.id + "_results";
    results.setAttribute("role", "listbox");
    results.hidden = true;
    input.setAttribute("aria-controls", results.id);
    wrapper.appendChild(chips);
    wrapper.appendChild(input);
    wrapper.appendChild(results);
    select.parentNode.insertBefore(wrapper, select.nextSibling);
    // Kept in the layout but out of sight: the form posts it, assistive technology skips it.
    select.classList.add("picker-native");
    select.tabIndex = -1;
    select.setAttribute("aria-hidden", "true");
    if (select.id) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (label) { label.htmlFor = input.id; }
    }
    var active = -1;
    var found = [];

    function chosen() {
      return Array.prototype.filter.call(select.options, function (o) { return o.selected && o.value; });
    }

    function renderChips() {
      chips.textContent = "";
      chosen().forEach(function (option) {
        var chip = document.createElement("li");
        chip.className = "picker-chip";
        chip.dataset.value = option.value;
        chip.appendChild(document.createTextNode(option.textContent));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "picker-remove";
        remove.setAttribute("aria-label", "×");
        remove.textContent = "×";
        remove.addEventListener("click", function () { unchoose(option.value); input.focus(); });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    function changed() {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function choose(item) {
      var value = String(item.id);
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
      if (!multiple) {
        Array.prototype.forEach.call(select.options, function (o) { o.selected = false; });
      }
      if (!option) {
        option = new Option(item.label, value, true, true);
        select.appendChild(option);
      }
      option.selected = true;
      input.value = "";
      close();
      changed();
    }

    function unchoose(value) {
      Array.prototype.forEach.call(select.options, function (o) {
        if (o.value === value) { o.selected = false; }
      });
      changed();
    }

    function close() {
      results.hidden = true;
      results.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      found = [];
    }

    function highlight(index) {
      var items = results.querySelectorAll("li");
      Array.prototype.forEach.call(items, function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      }
    }

    function show(items) {
      var taken = chosen().map(function (o) { return o.value; });
      found = items.filter(function (item) { return taken.indexOf(String(item.id)) < 0; });
      results.textContent = "";
      found.forEach(function (item, index) {
        var li = document.createElement("li");
        li.id = results.id + "_" + index;
        li.setAttribute("role", "option");
        li.textContent = item.label;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(item); });
        results.appendChild(li);
      });
      results.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      if (found.length) { highlight(0); }
    }

    var search = debounce(function (query) {
      if (!query) { close(); return; }
      fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === query) { show(data.results || []); } })
        .catch(function () { close(); });
    }, 150);

    input.addEventListener("input", function () { search(input.value.trim()); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && found.length) {
        event.preventDefault();
        highlight(Math.min(active + 1, found.length - 1));
      } else if (event.key === "ArrowUp" && found.length) {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && active >= 0 && found[active]) {
        event.preventDefault();
        choose(found[active]);
      } else if (event.key === "Escape") {
        close();
      } else if (event.key === "Backspace" && !input.value) {
        var last = chosen().pop();
        if (last) { unchoose(last.value); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    // Something else changed the native select (a pre-fill, a script): show it.
    select.addEventListener("change", renderChips);
    renderChips();
    if (document.activeElement === select) { input.focus(); }
  }

  function enhanceAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("select[data-picker]"), enhance);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceAll(document);
    // Rows added later (formset rows from a template, HTMX swaps) get their pickers too.
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        Array.prototype.forEach.call(mutation.addedNodes, function (node) {
          if (node.nodeType !== 1) { return; }
          if (node.matches("select[data-picker]")) { enhance(node); } else { enhanceAll(node); }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
  window.collabPickers = { enhance: enhanceAll };
})();
