-- Drives the edgewise Neovim plugin in a real headless Neovim against the real
-- `edgewise serve`, like a user would: keys go through nvim_input and the main loop.
--
--   EDGEWISE_TEST=config.json nvim --headless --clean -u plugin_driver.lua
--
-- config.json: {plugin_dir, cmd, settings, file, out}. Results go to `out` as JSON; the
-- pytest side (tests/editors/test_nvim.py) asserts on them.
local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/harness.lua')
local cfg, result = h.cfg, h.result
vim.opt.rtp:prepend(cfg.plugin_dir)
vim.o.showmode = false -- headless Neovim would print "-- INSERT --" to stdout
vim.o.swapfile = false
h.record_notify()
local ms, sleep, wait_until, step, expect, input, mode, buffer_text, finish =
  h.ms, h.sleep, h.wait_until, h.step, h.expect, h.input, h.mode, h.buffer_text, h.finish

local edgewise = require('edgewise')
local NS = vim.api.nvim_create_namespace('edgewise.ghost')

--- The ghost text as the extmarks in the buffer show it (inline text + virtual lines).
local function extmark_text(buf)
  local marks = vim.api.nvim_buf_get_extmarks(buf, NS, 0, -1, { details = true })
  if #marks == 0 then
    return nil, 0
  end
  local d = marks[1][4]
  local parts = {}
  for _, chunk in ipairs(d.virt_text or {}) do
    table.insert(parts, chunk[1])
  end
  local text = table.concat(parts)
  for _, line in ipairs(d.virt_lines or {}) do
    local l = {}
    for _, chunk in ipairs(line) do
      table.insert(l, chunk[1])
    end
    text = text .. '\n' .. table.concat(l)
  end
  return {
    text = text,
    row = marks[1][2],
    col = marks[1][3],
    pos = d.virt_text_pos,
    hl = (d.virt_text or {})[1] and d.virt_text[1][2],
  },
    #marks
end

local function edgewise_diagnostics(buf, code)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local data = d.user_data and d.user_data.lsp and d.user_data.lsp.data
    if d.source == 'edgewise' and (code == nil or d.code == code) then
      table.insert(out, {
        message = d.message,
        source = d.source,
        code = d.code,
        lnum = d.lnum,
        col = d.col,
        data = data,
        severity = d.severity,
      })
    end
  end
  return out
end

local function main()
  local errors = {}
  for name, opts in pairs({
    top = { keymap = {} },
    nested = { ghost = { hl_groop = 'Comment' } },
    typed = { keymaps = { accept = 3 } },
    empty = { ghost = { hl_group = '' } },
    list = { cmd = 'edgewise serve' },
    settings = { settings = 'model.gguf' },
  }) do
    local ok, err = pcall(edgewise.setup, opts)
    errors[name] = ok and 'no error' or err
  end
  step('setup_errors', errors)
  expect(edgewise.state == nil, 'a failed setup must change nothing')

  -- an option the plugin no longer uses: a warning, and the rest of the options stand
  local notes_before = #result.notifications
  local given = { ghost = { debounce_ms = 75, hl_group = 'Comment' } }
  local resolved = require('edgewise.config').resolve(given)
  step('removed_option', {
    notifications = vim.list_slice(result.notifications, notes_before + 1),
    ghost = resolved.ghost,
    given = given,
  })

  -- the server settings go through as they are: the server warns about each wrong key
  edgewise.setup({ cmd = cfg.cmd, settings = cfg.settings })

  vim.cmd.edit(cfg.file)
  local buf = vim.api.nvim_get_current_buf()
  local client = wait_until(function()
    local c = edgewise.client(buf)
    return c and c.initialized and edgewise.ghost(buf) and c
  end, 60000)
  expect(client, 'the edgewise client attached to the buffer')
  local commands = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  step('attached', { server = client.server_info, commands = commands })
  -- (the plugin shows the server's warnings with vim.notify, one message each)
  local function settings_warnings()
    return vim.tbl_map(
      function(n)
        return n.message
      end,
      vim.tbl_filter(function(n)
        return n.level == vim.log.levels.WARN
          and vim.startswith(n.message, 'edgewise: ')
          and n.message:find('setting', 1, true) ~= nil
      end, result.notifications)
    )
  end
  wait_until(function()
    return #settings_warnings() >= #cfg.settings_warnings
  end, 10000)
  step('settings_warnings', settings_warnings())

  -- 1) the docstring code action, chosen non-interactively, applies its edit and the
  --    report diagnostic arrives
  local def_row
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match('^def list_files') then
      def_row = i
    end
  end
  vim.api.nvim_win_set_cursor(0, { def_row + 1, 6 })
  local before = vim.api.nvim_buf_line_count(buf)
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'Add docstring (edgewise)'
    end,
  })
  expect(
    wait_until(function()
      return vim.api.nvim_buf_line_count(buf) > before
    end),
    'the docstring edit was applied'
  )
  local docstring_diag = wait_until(function()
    return edgewise_diagnostics(buf, 'action:docstring')[1]
  end)
  step('code_action', {
    inserted = vim.api.nvim_buf_get_lines(buf, def_row, def_row + vim.api.nvim_buf_line_count(buf) - before, false),
    diagnostic = docstring_diag,
    text = buffer_text(buf),
  })
  expect(docstring_diag, 'the docstring report diagnostic arrived')

  -- 2) typing in insert mode makes ghost text appear as an extmark
  local row
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match('for name in sorted') then
      row = i + 1 -- the blank line inside the loop
    end
  end
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  input('A')
  expect(
    wait_until(function()
      return mode() == 'i'
    end),
    'insert mode'
  )
  local ghost = assert(edgewise.ghost(buf))
  local requests0, empty0 = ghost.requests, ghost.empty
  -- three keystrokes inside the server's debounce window: three requests, one answer
  for _, key in ipairs({ 'n', 'a', 'm' }) do
    vim.api.nvim_input(key)
    sleep(10)
  end
  local shown = wait_until(function()
    return ghost:text() and ghost:in_flight() == 0 and extmark_text(buf)
  end)
  expect(shown, 'ghost text appeared after typing')
  step('ghost', {
    extmark = shown,
    ghost = ghost:text(),
    line = vim.api.nvim_get_current_line(),
    cursor = vim.api.nvim_win_get_cursor(0),
    tabstop = vim.bo[buf].tabstop,
    requests = ghost.requests - requests0,
    empty = ghost.empty - empty0,
  })

  -- 3) accepting (the <Tab> key) inserts it; the completion's report diagnostic arrives
  local expected_line = vim.api.nvim_get_current_line() .. ghost:text()
  local text_before = buffer_text(buf)
  local accepted_text = ghost:text()
  input('<Tab>')
  expect(
    wait_until(function()
      return buffer_text(buf) ~= text_before
    end),
    'accepting changed the buffer'
  )
  local completion_diag = wait_until(function()
    return edgewise_diagnostics(buf, 'completion:inline')[1]
  end)
  step('accept', {
    accepted = accepted_text,
    expected_first_line = vim.split(expected_line, '\n', { plain = true })[1],
    text_before = text_before,
    text_after = buffer_text(buf),
    cursor = vim.api.nvim_win_get_cursor(0),
    mode = mode(),
    diagnostic = completion_diag,
  })
  expect(completion_diag, 'the completion report diagnostic arrived')

  -- 4) accept-word takes the next word and keeps showing the rest; dismiss hides it
  input('<Esc>')
  input('o')
  local requests1 = ghost.requests
  input('x')
  expect(
    wait_until(function()
      return ghost:text()
    end),
    'a new suggestion after typing on a new line'
  )
  local full = ghost:text()
  local line_before = vim.api.nvim_get_current_line()
  input('<M-Right>')
  local word_line = vim.api.nvim_get_current_line()
  local rest = ghost:text()
  local rest_mark = extmark_text(buf)
  input('<C-]>')
  local _, marks_after_dismiss = extmark_text(buf)
  step('accept_word', {
    full = full,
    line_before = line_before,
    line_after = word_line,
    rest = rest,
    rest_extmark = rest_mark,
    rest_start = vim.fn.strdisplaywidth(word_line:sub(1, vim.api.nvim_win_get_cursor(0)[2])),
    marks_after_dismiss = marks_after_dismiss,
    visible_after_dismiss = ghost:visible(),
    requests = ghost.requests - requests1,
  })

  -- 5) no ghost text while the completion menu is open; it comes back when it closes
  input('<Esc>')
  input('o')
  input('na')
  wait_until(function()
    return ghost:text()
  end, 10000)
  local requests2 = ghost.requests
  input('<C-n>')
  local pum = wait_until(function()
    return vim.fn.pumvisible() == 1
  end, 5000)
  local marks_with_menu, requests_with_menu = 0, 0
  local t_end = ms() + 600
  while ms() < t_end do
    local _, n = extmark_text(buf)
    marks_with_menu = math.max(marks_with_menu, n)
    sleep(20)
  end
  requests_with_menu = ghost.requests - requests2
  input('<C-e>')
  local back = wait_until(function()
    return vim.fn.pumvisible() == 0 and ghost:text() ~= nil
  end, 30000)
  step('pum', {
    pum_shown = pum ~= nil,
    marks_with_menu = marks_with_menu,
    requests_with_menu = requests_with_menu,
    ghost_after_close = back ~= nil,
  })

  -- 6) a keystroke while a request is in flight (the server's debounce holds it): the
  --    server supersedes the older request, the plugin cancels nothing itself
  --    (the recent edits stay out of these prompts: the tiny model's noise answered the
  --    newer request with an empty line once they were in, and this step is about
  --    superseding; they are tested in tests/lsp/test_recent_context_lsp.py)
  input('<Esc>')
  client:notify('workspace/didChangeConfiguration', {
    settings = vim.tbl_extend('force', cfg.settings, { debounceMs = 1500, recentEdits = false }),
  })
  input('o')
  -- (opening the line may have asked already: let that answer come, and hide it)
  wait_until(function()
    return ghost:in_flight() == 0
  end, 30000)
  ghost:dismiss()
  local cancelled0, requests3, empty3 = ghost.cancelled, ghost.requests, ghost.empty
  input('y')
  local in_flight = wait_until(function()
    return ghost:in_flight() > 0
  end, 5000)
  input('z')
  local final = wait_until(function()
    return ghost:in_flight() == 0 and ghost:text()
  end, 30000)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local superseding = {
    in_flight = in_flight ~= nil,
    requests = ghost.requests - requests3,
    empty = ghost.empty - empty3,
    cancelled = ghost.cancelled - cancelled0,
    ghost = final,
    ghost_col = ghost.suggestion and ghost.suggestion.col,
    cursor_col = cursor[2],
    line = vim.api.nvim_get_current_line(),
  }
  -- leaving insert mode while a request is in flight cancels it ($/cancelRequest)
  ghost:dismiss() -- (so that 'w' is not typed through the suggestion)
  input('w')
  superseding.in_flight_before_leaving = wait_until(function()
    return ghost:in_flight() > 0
  end, 5000) ~= nil
  local cancelled1 = ghost.cancelled
  input('<Esc>')
  superseding.cancelled_on_leaving = ghost.cancelled - cancelled1
  superseding.in_flight_after_leaving = ghost:in_flight()
  step('cancel', superseding)
  client:notify('workspace/didChangeConfiguration', { settings = cfg.settings })

  -- 7) a multi-line suggestion (the tiny model's noise rarely has a newline, so this one
  --    is given to the renderer as a server answer would be): virtual text + lines
  ghost:dismiss()
  input('<Esc>')
  input('o')
  input('ab')
  ghost:dismiss()
  local mrow, mcol = vim.api.nvim_win_get_cursor(0)[1] - 1, vim.api.nvim_win_get_cursor(0)[2]
  local answer = {
    items = {
      {
        insertText = 'abc = [\n\t1,\n]',
        range = { start = { line = mrow, character = mcol - 2 }, ['end'] = { line = mrow, character = mcol } },
      },
    },
  }
  ghost:_show(answer, mrow, mcol, vim.b[buf].changedtick)
  local multi_mark = extmark_text(buf)
  local marks = vim.api.nvim_buf_get_extmarks(buf, NS, 0, -1, { details = true })
  input('<Tab>')
  local cur = vim.api.nvim_win_get_cursor(0)
  step('multiline', {
    shown = ghost.suggestion and ghost.suggestion.shown or multi_mark and multi_mark.text,
    extmark = multi_mark,
    virt_lines = marks[1] and #(marks[1][4].virt_lines or {}) or 0,
    lines = vim.api.nvim_buf_get_lines(buf, mrow, mrow + 3, false),
    cursor = cur,
    row = mrow,
  })
  ghost:dismiss()
  input('<Esc>')

  -- 8) :EdgewiseCost in a floating window
  vim.cmd('EdgewiseCost')
  local float = wait_until(function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        return win
      end
    end
  end, 10000)
  step('cost', float and vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false) or false)
  if float then
    vim.api.nvim_win_close(float, true)
  end

  -- 9) :EdgewisePrompt shows the last prompt
  vim.cmd('EdgewisePrompt')
  local prompt_buf = wait_until(function()
    local b = vim.fn.bufnr('edgewise://last-prompt')
    return b ~= -1 and vim.api.nvim_buf_line_count(b) > 1 and b
  end, 10000)
  step('prompt', prompt_buf and vim.api.nvim_buf_get_lines(prompt_buf, 0, -1, false) or false)
  vim.cmd('only')
  vim.api.nvim_set_current_buf(buf)

  -- 10) :EdgewiseRewrite: sent when the server knows edgewise.rewrite, else a clear message
  local rewrite_before = buffer_text(buf)
  local notes0 = #result.notifications
  -- (an error message raised from a command run by vim.cmd() becomes an exception)
  local sent, raised = pcall(vim.cmd, ('%d,%dEdgewiseRewrite use a list comprehension'):format(def_row, def_row + 3))
  local rewrite = { known = vim.list_contains(commands, 'edgewise.rewrite'), raised = not sent and raised or nil }
  if rewrite.known then
    rewrite.changed = wait_until(function()
      return buffer_text(buf) ~= rewrite_before or #result.notifications > notes0
    end, 60000) ~= nil
    rewrite.diagnostics = edgewise_diagnostics(buf)
    rewrite.unchanged = buffer_text(buf) == rewrite_before
  end
  rewrite.notifications = vim.list_slice(result.notifications, notes0 + 1)
  step('rewrite', rewrite)

  -- 11) :checkhealth edgewise
  vim.cmd('checkhealth edgewise')
  local health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  step('health', health)

  finish(0)
end

h.run(main)
