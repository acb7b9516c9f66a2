--- Explain: the explanation opens beside the code (a split to the right, or below in a
--- narrow window) and the cursor stays in the code. While the model runs, the view shows
--- its progress (the server's $/progress messages and the time so far); `q` in the view
--- closes it, and cancels the request if it is still running.
---
--- The code action "Explain" runs the command `edgewise.explain`: the plugin runs it on
--- the client side (vim.lsp.commands of the client) to open the view first, then asks the
--- server. The server shows the explanation with window/showDocument (a read-only file
--- in its state folder); the plugin's handler puts that file into the view instead of
--- replacing the code window with it.
local M = {}

M.COMMAND = 'edgewise.explain'
M.BUFFER = 'edgewise://explanation'
local TICK_MS = 250

---@class edgewise.ExplainView
---@field buf integer
---@field client_id integer
---@field request_id? integer the workspace/executeCommand in flight
---@field started integer vim.uv.now() when it was asked
---@field heading string
---@field progress string the server's last progress message
---@field done boolean the explanation (or the reason there is none) is shown
---@field timer? uv.uv_timer_t

---@type edgewise.ExplainView?
M.view = nil

--- Explanations the user closed while they ran: if one arrives all the same (the
--- cancel crossed it), it is not shown.
M.unwanted = 0

---@param value any
---@return any nil for JSON null
local function value_of(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

--- The explanation buffer (created once, reused).
---@return integer
local function buffer()
  local buf = vim.fn.bufnr(M.BUFFER)
  if buf ~= -1 then
    return buf
  end
  buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, M.BUFFER)
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].filetype = 'markdown'
  vim.bo[buf].modifiable = false
  vim.keymap.set('n', 'q', function()
    M.close()
  end, { buffer = buf, nowait = true, desc = 'edgewise: close the explanation' })
  return buf
end

---@param buf integer
---@param lines string[]
local function set_lines(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
end

--- Show `buf` beside the current window without leaving it: to the right when there is
--- room for both, else below. Returns the view's window.
---@param buf integer
---@return integer
local function show_beside(buf)
  local existing = vim.fn.bufwinid(buf)
  if existing ~= -1 then
    return existing
  end
  local code = vim.api.nvim_get_current_win()
  local width = vim.api.nvim_win_get_width(code)
  local win
  if width >= 100 then
    win = vim.api.nvim_open_win(buf, false, {
      split = 'right',
      win = code,
      width = math.min(80, math.floor(width * 0.4)),
    })
  else
    win = vim.api.nvim_open_win(
      buf,
      false,
      { split = 'below', win = code, height = math.max(8, math.floor(vim.o.lines / 3)) }
    )
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  vim.wo[win].signcolumn = 'no'
  vim.wo[win].winfixwidth = true
  return win
end

---@param view edgewise.ExplainView
---@return string[]
local function progress_lines(view)
  local seconds = (vim.uv.now() - view.started) / 1000
  return {
    '# ' .. view.heading,
    '',
    ('edgewise is asking the model … %.0f s'):format(seconds),
    view.progress ~= '' and ('model: %s'):format(view.progress) or '',
    '',
    'q closes this view and stops the request.',
  }
end

---@param view edgewise.ExplainView
local function stop_timer(view)
  if view.timer then
    view.timer:stop()
    view.timer:close()
    view.timer = nil
  end
end

---@param view edgewise.ExplainView
local function render_progress(view)
  if view.done or not vim.api.nvim_buf_is_valid(view.buf) then
    return
  end
  set_lines(view.buf, progress_lines(view))
end

--- Show `lines` as the result and stop the progress.
---@param view edgewise.ExplainView
---@param lines string[]
local function finish(view, lines)
  view.done = true
  stop_timer(view)
  if vim.api.nvim_buf_is_valid(view.buf) then
    set_lines(view.buf, lines)
    show_beside(view.buf)
  end
end

--- Close the view; a request still running is cancelled.
function M.close()
  local view = M.view
  if view then
    stop_timer(view)
    if not view.done and view.request_id then
      local client = vim.lsp.get_client_by_id(view.client_id)
      if client then
        client:cancel_request(view.request_id)
        M.unwanted = M.unwanted + 1
      end
    end
    view.done = true
    M.view = nil
  end
  local win = vim.fn.bufwinid(M.BUFFER)
  if win ~= -1 and #vim.api.nvim_list_wins() > 1 then
    vim.api.nvim_win_close(win, true)
  end
end

---@param args table the command's argument {uri, range}
---@return string
local function heading(args)
  local uri = type(args) == 'table' and args.uri or nil
  local range = type(args) == 'table' and args.range or nil
  local name = type(uri) == 'string' and vim.fn.fnamemodify(vim.uri_to_fname(uri), ':t') or 'the selection'
  if type(range) == 'table' and range.start and range['end'] then
    return ('Explanation of %s, lines %d-%d'):format(name, range.start.line + 1, range['end'].line + 1)
  end
  return 'Explanation of ' .. name
end

--- The client-side `edgewise.explain` command: open the view with progress, then ask
--- the server.
---@param command lsp.Command
---@param ctx {bufnr: integer, client_id: integer}
function M.command(command, ctx)
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  if not client then
    return
  end
  M.close()
  local view = {
    buf = buffer(),
    client_id = client.id,
    started = vim.uv.now(),
    heading = heading((command.arguments or {})[1]),
    progress = '',
    done = false,
  }
  M.view = view
  render_progress(view)
  show_beside(view.buf)
  view.timer = vim.uv.new_timer()
  view.timer:start(
    TICK_MS,
    TICK_MS,
    vim.schedule_wrap(function()
      render_progress(view)
    end)
  )
  local params = { command = command.command, arguments = command.arguments }
  local ok, id = client:request('workspace/executeCommand', params, function(err, result)
    if M.view ~= view or view.done then
      return -- closed, or the explanation came through window/showDocument already
    end
    result = value_of(result)
    if err then
      finish(view, { '# ' .. view.heading, '', 'edgewise: explain failed: ' .. tostring(err.message or err) })
    elseif type(result) == 'table' and type(value_of(result.text)) == 'string' then
      local lines = { '# ' .. view.heading, '' }
      vim.list_extend(lines, vim.split(result.text, '\n', { plain = true }))
      finish(view, lines)
    else
      local reason = type(result) == 'table' and value_of(result.reason) or nil
      finish(
        view,
        { '# ' .. view.heading, '', 'edgewise: no explanation: ' .. tostring(reason or 'the server sent none') }
      )
    end
  end, ctx.bufnr)
  view.request_id = ok and id or nil
end

--- $/progress of the explain's client: its message goes into the view.
---@param client_id integer
---@param value table the progress value (begin/report/end)
function M.on_progress(client_id, value)
  local view = M.view
  if not view or view.done or view.client_id ~= client_id or type(value) ~= 'table' then
    return
  end
  local message = value_of(value.message)
  if type(message) == 'string' and message ~= '' then
    view.progress = message
    render_progress(view)
  end
end

--- True for the read-only explanation files the server writes (explanations/explain-*.md).
---@param uri string
---@return boolean
function M.is_explanation(uri)
  return type(uri) == 'string' and uri:match('^file:') ~= nil and uri:match('/explanations/explain%-[^/]+%.md$') ~= nil
end

--- window/showDocument: an explanation goes into the view beside the code; any other
--- document is shown as Neovim shows it.
---@param err? lsp.ResponseError
---@param params lsp.ShowDocumentParams
---@param ctx lsp.HandlerContext
---@return lsp.ShowDocumentResult
function M.show_document(err, params, ctx)
  if not params or params.external or not M.is_explanation(params.uri) then
    return vim.lsp.handlers['window/showDocument'](err, params, ctx)
  end
  local ok, lines = pcall(vim.fn.readfile, vim.uri_to_fname(params.uri))
  if not ok then
    return { success = false }
  end
  local view = M.view
  if (not view or view.done) and M.unwanted > 0 then
    M.unwanted = M.unwanted - 1
    return { success = true } -- closed by the user while it ran
  end
  if not view or view.done then
    view = {
      buf = buffer(),
      client_id = ctx.client_id,
      started = vim.uv.now(),
      heading = '',
      progress = '',
      done = false,
    }
    M.view = view
  end
  finish(view, lines)
  return { success = true }
end

return M
