--- The preview of an edit before it is applied: a `workspace/applyEdit` whose edits carry
--- a change annotation with `needsConfirmation` (edgewise marks a rewrite's edit with the
--- annotation `edgewise.preview`) is shown as a diff in a floating window, and applied only
--- when the user accepts it (`a`, `y` or <CR>); `r`, `n`, `q`, <Esc> or closing the window
--- reject it, and the server is told so. Edits with no such annotation are applied as
--- Neovim applies them.
local M = {}

M.ANNOTATION = 'edgewise.preview'
M.REJECTED = 'rejected in the edgewise preview'
M.CHANGED = 'the document changed while the preview was open'

local ACCEPT_KEYS = { 'a', 'y', '<CR>' }
local REJECT_KEYS = { 'r', 'n', 'q', '<Esc>' }

---@param value any
---@return any nil for JSON null
local function value_of(value)
  if value == vim.NIL then
    return nil
  end
  return value
end

--- The annotations of `edit` that ask for confirmation, by id.
---@param edit lsp.WorkspaceEdit
---@return table<string, lsp.ChangeAnnotation>
local function confirming(edit)
  local out = {}
  for id, annotation in pairs(value_of(edit.changeAnnotations) or {}) do
    if type(annotation) == 'table' and annotation.needsConfirmation == true then
      out[id] = annotation
    end
  end
  return out
end

---@class edgewise.PreviewFile
---@field uri string
---@field edits lsp.TextEdit[]
---@field version? integer the document version the edit was made for

--- The text edits of `edit` by document, and the resource operations (create, rename,
--- delete) it holds. `annotated` lists the annotation ids its edits carry.
---@param edit lsp.WorkspaceEdit
---@return edgewise.PreviewFile[] files, table[] operations, table<string, true> annotated
local function parts(edit)
  local files, operations, annotated = {}, {}, {}
  for _, change in ipairs(value_of(edit.documentChanges) or {}) do
    if change.kind then
      table.insert(operations, change)
      if change.annotationId then
        annotated[change.annotationId] = true
      end
    else
      local version = value_of(change.textDocument.version)
      table.insert(files, { uri = change.textDocument.uri, edits = change.edits, version = version })
      for _, e in ipairs(change.edits) do
        if e.annotationId then
          annotated[e.annotationId] = true
        end
      end
    end
  end
  if not edit.documentChanges then
    for uri, edits in pairs(value_of(edit.changes) or {}) do
      table.insert(files, { uri = uri, edits = edits })
    end
  end
  table.sort(files, function(a, b)
    return a.uri < b.uri
  end)
  return files, operations, annotated
end

--- True when `edit` must be shown before it is applied.
---@param edit lsp.WorkspaceEdit
---@return boolean
function M.needs_preview(edit)
  if type(edit) ~= 'table' then
    return false
  end
  local wanted = confirming(edit)
  if wanted[M.ANNOTATION] then
    return true -- edgewise's own, even on edits that cannot carry an id (`changes`)
  end
  local _, _, annotated = parts(edit)
  for id in pairs(annotated) do
    if wanted[id] then
      return true
    end
  end
  return false
end

---@param uri string
---@return integer bufnr (loaded)
local function buffer_of(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  vim.fn.bufload(bufnr)
  return bufnr
end

--- The text of `file` after its edits, computed on a scratch copy (the buffer is left
--- alone).
---@param file edgewise.PreviewFile
---@param encoding string
---@return string[] before, string[] after
local function after_edits(file, encoding)
  local bufnr = buffer_of(file.uri)
  local before = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, before)
  local ok, err = pcall(vim.lsp.util.apply_text_edits, file.edits, scratch, encoding)
  local after = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  if not ok then
    error(err, 0)
  end
  return before, after
end

--- The lines of the preview: a unified diff of each document, and the file operations.
---@param edit lsp.WorkspaceEdit
---@param encoding string
---@return string[]
function M.diff_lines(edit, encoding)
  local files, operations = parts(edit)
  local lines = {}
  local cwd = vim.fn.getcwd()
  for _, file in ipairs(files) do
    local before, after = after_edits(file, encoding)
    local name = vim.fs.relpath(cwd, vim.uri_to_fname(file.uri)) or vim.uri_to_fname(file.uri)
    local diff = vim.diff(table.concat(before, '\n') .. '\n', table.concat(after, '\n') .. '\n', {
      result_type = 'unified',
      ctxlen = 3,
    }) --[[@as string]]
    table.insert(lines, '--- a/' .. name)
    table.insert(lines, '+++ b/' .. name)
    if diff == '' then
      table.insert(lines, '(no change)')
    else
      vim.list_extend(lines, vim.split(vim.trim(diff), '\n', { plain = true }))
    end
  end
  for _, op in ipairs(operations) do
    if op.kind == 'rename' then
      table.insert(lines, ('rename %s -> %s'):format(vim.uri_to_fname(op.oldUri), vim.uri_to_fname(op.newUri)))
    else
      table.insert(lines, ('%s %s'):format(op.kind, vim.uri_to_fname(op.uri)))
    end
  end
  return lines
end

--- Whether a document changed after the edit was made for it (then it no longer fits).
---@param edit lsp.WorkspaceEdit
---@return boolean
local function outdated(edit)
  local files = parts(edit)
  for _, file in ipairs(files) do
    local bufnr = vim.uri_to_bufnr(file.uri)
    local version = file.version
    if version and version > 0 and (vim.lsp.util.buf_versions[bufnr] or 0) > version then
      return true
    end
  end
  return false
end

--- The preview's title: the label of the annotation that asks for confirmation (it names
--- the action), else the label of the request.
---@param edit lsp.WorkspaceEdit
---@param label string
---@return string
local function title_of(edit, label)
  local ids = vim.tbl_keys(confirming(edit))
  table.sort(ids)
  for _, id in ipairs(ids) do
    local annotation = confirming(edit)[id]
    if type(annotation.label) == 'string' and annotation.label ~= '' then
      return annotation.label
    end
  end
  return label ~= '' and label or 'edgewise: apply this change?'
end

--- Show the diff of `edit` in a floating window and call `decide(true|false)` once the
--- user accepts or rejects it. Returns the window.
---@param edit lsp.WorkspaceEdit
---@param label string
---@param encoding string
---@param decide fun(accepted: boolean)
---@return integer win
function M.open(edit, label, encoding, decide)
  local lines = M.diff_lines(edit, encoding)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = 'diff'
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  local title = ' ' .. title_of(edit, label) .. ' '
  local footer = ' a: apply   r: reject '
  local widest = vim.fn.strdisplaywidth(title) + 2
  for _, line in ipairs(lines) do
    widest = math.max(widest, vim.fn.strdisplaywidth(line))
  end
  local width = math.max(30, math.min(widest + 1, vim.o.columns - 6))
  local height = math.max(3, math.min(#lines, vim.o.lines - vim.o.cmdheight - 6))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = 'editor',
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = height,
    style = 'minimal',
    border = 'rounded',
    title = title,
    title_pos = 'center',
    footer = footer,
    footer_pos = 'center',
  })
  vim.wo[win].wrap = false
  local decided = false
  local function finish(accepted)
    if decided then
      return
    end
    decided = true
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
    decide(accepted)
  end
  for _, key in ipairs(ACCEPT_KEYS) do
    vim.keymap.set('n', key, function()
      finish(true)
    end, { buffer = buf, nowait = true, desc = 'edgewise: apply the previewed change' })
  end
  for _, key in ipairs(REJECT_KEYS) do
    vim.keymap.set('n', key, function()
      finish(false)
    end, { buffer = buf, nowait = true, desc = 'edgewise: reject the previewed change' })
  end
  -- closed some other way (:q, <C-w>c, another buffer in it): rejected
  vim.api.nvim_create_autocmd({ 'WinClosed', 'BufWipeout' }, {
    buffer = buf,
    once = true,
    callback = function()
      vim.schedule(function()
        finish(false)
      end)
    end,
  })
  return win
end

--- Apply `edit` now (the user accepted it): the answer to workspace/applyEdit.
---@param edit lsp.WorkspaceEdit
---@param encoding string
---@return lsp.ApplyWorkspaceEditResult
local function apply(edit, encoding)
  if outdated(edit) then
    return { applied = false, failureReason = M.CHANGED }
  end
  local ok, err = pcall(vim.lsp.util.apply_workspace_edit, edit, encoding)
  if not ok then
    return { applied = false, failureReason = tostring(err) }
  end
  return { applied = true }
end

--- The `workspace/applyEdit` handler: a preview for edits that ask for confirmation,
--- Neovim's own handler for the others. Neovim runs server requests in a coroutine, so
--- the answer waits for the user's choice.
---@param err? lsp.ResponseError
---@param params lsp.ApplyWorkspaceEditParams
---@param ctx lsp.HandlerContext
---@return lsp.ApplyWorkspaceEditResult
function M.handler(err, params, ctx)
  local edit = params and params.edit
  if not M.needs_preview(edit) then
    return vim.lsp.handlers['workspace/applyEdit'](err, params, ctx)
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local encoding = client and client.offset_encoding or 'utf-16'
  local label = type(params.label) == 'string' and params.label or ''
  local co, is_main = coroutine.running()
  if not co or is_main then
    -- (not called by Neovim's dispatcher: nothing to wait in) a plain question
    local choice = vim.fn.confirm(
      title_of(edit, label) .. '\n' .. table.concat(M.diff_lines(edit, encoding), '\n'),
      '&Apply\n&Reject',
      2
    )
    return choice == 1 and apply(edit, encoding) or { applied = false, failureReason = M.REJECTED }
  end
  local opened, problem = pcall(M.open, edit, label, encoding, function(accepted)
    vim.schedule(function()
      coroutine.resume(co, accepted)
    end)
  end)
  if not opened then
    return { applied = false, failureReason = 'edgewise: cannot show the preview: ' .. tostring(problem) }
  end
  local accepted = coroutine.yield()
  if not accepted then
    return { applied = false, failureReason = M.REJECTED }
  end
  return apply(edit, encoding)
end

return M
